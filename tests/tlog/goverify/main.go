// Command goverify checks a Comity log exported in the C2SP static layout with Go's own
// golang.org/x/mod/sumdb/{note,tlog} packages: an implementation independent of ours.
//
//	goverify verify -dir DIR -vkey VKEY [-old CHECKPOINT_FILE] [-proofs N]
//	goverify serve -dir DIR -portfile FILE [-cert PEM -key PEM]
//
// verify: opens the checkpoint with the vkey, authenticates the tiles against its root
// (tlog.TileHashReader, tlog.TreeHash), hashes every entry of every disclosed entry bundle and
// compares it with the leaf hash in the tiles, checks inclusion proofs (tlog.ProveRecord /
// CheckRecord) and, with -old, a consistency proof (tlog.ProveTree / CheckTree). Exit 0 and one
// line on success; exit 1 with the first failure.
//
// serve: serves DIR over HTTP (or HTTPS with -cert/-key) on 127.0.0.1, on a free port written
// to -portfile, until killed. Used by the CLI tests of `comity log verify` over http(s).
//
// Built in GOPATH mode (GO111MODULE=off, GOPATH=/usr/share/gocode) against Debian's
// golang-golang-x-mod-dev; no network.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

func openCheckpoint(msg []byte, v note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return checkpoint{}, errors.New("checkpoint: malformed body")
	}
	if lines[0] != v.Name() {
		return checkpoint{}, fmt.Errorf("checkpoint origin %q is not the key name %q", lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return checkpoint{}, fmt.Errorf("checkpoint size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint root: %v", err)
	}
	return checkpoint{lines[0], tlog.Tree{N: size, Hash: root}}, nil
}

// c2spPath turns x/mod's "tile/8/L/NNN[.p/W]" into C2SP's "tile/L/NNN[.p/W]".
func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
}

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return height }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if errors.Is(err, os.ErrNotExist) && t.W < 1<<height {
			full := t
			full.W = 1 << height
			data, err = os.ReadFile(filepath.Join(d.dir, c2spPath(full)))
			if err == nil && len(data) >= t.W*tlog.HashSize {
				data = data[:t.W*tlog.HashSize]
			}
		}
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", c2spPath(t), len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func bundlePath(n int64, w int) string {
	t := tlog.Tile{H: height, L: 0, N: n, W: w}
	return "tile/entries/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/0/", height))
}

func parseBundle(data []byte, want int) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated length")
		}
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		if len(data) < n {
			return nil, errors.New("truncated entry")
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	if len(out) != want {
		return nil, fmt.Errorf("%d entries, want %d", len(out), want)
	}
	return out, nil
}

func verify(dir, vkey, oldFile string, proofs int64) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("vkey: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(msg, v)
	if err != nil {
		return err
	}
	size := cp.tree.N
	disclosed := size
	if d, err := os.ReadFile(filepath.Join(dir, "disclosed")); err == nil {
		disclosed, err = strconv.ParseInt(strings.TrimSuffix(string(d), "\n"), 10, 64)
		if err != nil || disclosed < 0 || disclosed > size {
			return fmt.Errorf("disclosed: %q", d)
		}
	}
	hr := tlog.TileHashReader(cp.tree, dirTiles{dir})
	if size > 0 {
		th, err := tlog.TreeHash(size, hr)
		if err != nil {
			return fmt.Errorf("tree hash from tiles: %v", err)
		}
		if th != cp.tree.Hash {
			return fmt.Errorf("tiles hash to %v, checkpoint says %v", th, cp.tree.Hash)
		}
	}
	// Every disclosed entry against its leaf hash.
	for n := int64(0); n*256 < disclosed; n++ {
		w := int(disclosed - n*256)
		if w > 256 {
			w = 256
		}
		data, err := os.ReadFile(filepath.Join(dir, bundlePath(n, w)))
		if err != nil {
			return err
		}
		entries, err := parseBundle(data, w)
		if err != nil {
			return fmt.Errorf("%s: %v", bundlePath(n, w), err)
		}
		idx := make([]int64, w)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, n*256+int64(i))
		}
		leaves, err := hr.ReadHashes(idx)
		if err != nil {
			return fmt.Errorf("leaf hashes of bundle %d: %v", n, err)
		}
		for i, e := range entries {
			if tlog.RecordHash(e) != leaves[i] {
				return fmt.Errorf("%s: entry %d does not hash to its leaf", bundlePath(n, w), n*256+int64(i))
			}
		}
	}
	// Inclusion proofs for a spread of leaves, first and last included.
	checked := 0
	if size > 0 {
		step := size / proofs
		if step == 0 {
			step = 1
		}
		for i := int64(0); i < size; i += step {
			for _, j := range []int64{i, size - 1 - i} {
				p, err := tlog.ProveRecord(size, j, hr)
				if err != nil {
					return fmt.Errorf("prove %d: %v", j, err)
				}
				leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, j)})
				if err != nil {
					return err
				}
				if err := tlog.CheckRecord(p, size, cp.tree.Hash, j, leaf[0]); err != nil {
					return fmt.Errorf("inclusion proof of %d: %v", j, err)
				}
				checked++
			}
		}
	}
	summary := fmt.Sprintf("go-verify ok: %s size %d root %s, %d entries checked, %d inclusion proofs",
		cp.origin, size, base64.StdEncoding.EncodeToString(cp.tree.Hash[:]), disclosed, checked)
	if oldFile != "" {
		msg, err := os.ReadFile(oldFile)
		if err != nil {
			return err
		}
		old, err := openCheckpoint(msg, v)
		if err != nil {
			return fmt.Errorf("old %v", err)
		}
		if old.tree.N > size {
			return fmt.Errorf("log shrank from %d to %d", old.tree.N, size)
		}
		p, err := tlog.ProveTree(size, old.tree.N, hr)
		if err != nil {
			return fmt.Errorf("consistency proof: %v", err)
		}
		if err := tlog.CheckTree(p, size, cp.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
			return fmt.Errorf("not consistent with the checkpoint of size %d: %v", old.tree.N, err)
		}
		summary += fmt.Sprintf(", consistent with size %d", old.tree.N)
	}
	fmt.Println(summary)
	return nil
}

func serve(dir, portfile, cert, key string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	tmp := portfile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, portfile); err != nil {
		return err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	if cert != "" {
		return srv.ServeTLS(ln, cert, key)
	}
	return srv.Serve(ln)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: goverify verify|serve ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "log directory (C2SP static layout)")
	vkey := fs.String("vkey", "", "verifier key")
	old := fs.String("old", "", "earlier checkpoint file")
	proofs := fs.Int64("proofs", 200, "about how many inclusion proofs to check")
	portfile := fs.String("portfile", "", "where to write the port")
	cert := fs.String("cert", "", "TLS certificate (PEM)")
	key := fs.String("key", "", "TLS key (PEM)")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "verify":
		err = verify(*dir, *vkey, *old, *proofs)
	case "serve":
		err = serve(*dir, *portfile, *cert, *key)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "goverify:", err)
		os.Exit(1)
	}
}
