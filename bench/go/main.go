// Command tlogpeer measures Go's golang.org/x/mod/sumdb/tlog in memory, as the peer of
// bench_tlog: appending leaves (tlog.StoredHashes over an in-memory hash store) and computing
// inclusion proofs (tlog.ProveRecord), on the same kind of entries (100..300 bytes).
//
//	tlogpeer [-n 1048576] [-proofs 200000]
//
// Prints two lines: "go x/mod append: <leaves/s> leaves/s" and
// "go x/mod inclusion proofs: <proofs/s> proofs/s". Built in GOPATH mode against Debian's
// golang-golang-x-mod-dev (bench/tlog_durable.sh builds and runs it).
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

type memHashes []tlog.Hash

func (m *memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = (*m)[x]
	}
	return out, nil
}

func main() {
	n := flag.Int64("n", 1<<20, "leaves to append")
	proofs := flag.Int("proofs", 200000, "inclusion proofs to compute")
	flag.Parse()

	rng := rand.New(rand.NewSource(1))
	entries := make([][]byte, *n)
	for i := range entries {
		e := []byte("{\"i\":" + strconv.Itoa(i) + ",\"pad\":\"")
		l := 100 + rng.Intn(201)
		for len(e)+2 < l {
			e = append(e, byte('a'+rng.Intn(26)))
		}
		entries[i] = append(e, '"', '}')
	}

	store := make(memHashes, 0, 2*(*n))
	start := time.Now()
	for i := int64(0); i < *n; i++ {
		h, err := tlog.StoredHashes(i, entries[i], &store)
		if err != nil {
			panic(err)
		}
		store = append(store, h...)
	}
	appendSecs := time.Since(start).Seconds()
	fmt.Printf("go x/mod append: %.0f leaves/s\n", float64(*n)/appendSecs)

	start = time.Now()
	for k := 0; k < *proofs; k++ {
		if _, err := tlog.ProveRecord(*n, rng.Int63n(*n), &store); err != nil {
			panic(err)
		}
	}
	proofSecs := time.Since(start).Seconds()
	fmt.Printf("go x/mod inclusion proofs: %.0f proofs/s\n", float64(*proofs)/proofSecs)
}
