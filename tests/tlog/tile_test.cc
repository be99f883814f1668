// Tile coordinates, C2SP paths and entry bundles.
#include "tlog/tile.h"

#include <gtest/gtest.h>

#include <limits>

namespace comity::tlog {
namespace {

TEST(TilePaths, EncodeLikeTheSpec) {
  EXPECT_EQ(EncodeTileIndex(0), "000");
  EXPECT_EQ(EncodeTileIndex(999), "999");
  EXPECT_EQ(EncodeTileIndex(1000), "x001/000");
  EXPECT_EQ(EncodeTileIndex(1234067), "x001/x234/067");
  EXPECT_EQ(TilePath({0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath({3, 1234067, 5}), "tile/3/x001/x234/067.p/5");
  EXPECT_EQ(EntryBundlePath(7, 255), "tile/entries/007.p/255");
  EXPECT_EQ(EncodeTileIndex(std::numeric_limits<uint64_t>::max()),
            "x018/x446/x744/x073/x709/x551/615");
}

TEST(TilePaths, ParseRoundTrips) {
  const uint64_t indices[] = {0, 1, 999, 1000, 1234067, std::numeric_limits<uint64_t>::max()};
  for (uint64_t n : indices) {
    for (int level : {0, 1, 63}) {
      for (int width : {1, 100, 255, 256}) {
        const std::string path = TilePath({level, n, width});
        auto p = ParseResourcePath(path);
        ASSERT_TRUE(p.ok()) << path << ": " << p.status().ToString();
        EXPECT_EQ(p->kind, ResourcePath::Kind::kTile);
        EXPECT_EQ(p->tile, (TileId{level, n, width})) << path;
      }
    }
    auto b = ParseResourcePath(EntryBundlePath(n, 17));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->kind, ResourcePath::Kind::kEntryBundle);
    EXPECT_EQ(b->tile.index, n);
    EXPECT_EQ(b->tile.width, 17);
  }
  EXPECT_EQ(ParseResourcePath("checkpoint")->kind, ResourcePath::Kind::kCheckpoint);
}

TEST(TilePaths, RejectsNonCanonicalPaths) {
  for (std::string_view bad : {"",
                               "checkpoints",
                               "tile",
                               "tile/",
                               "tile/0",
                               "tile/0/",
                               "tile/00/000",
                               "tile/64/000",
                               "tile/-1/000",
                               "tile/0/1234",
                               "tile/0/12",
                               "tile/0/x000/001",
                               "tile/0/001/002",
                               "tile/0/x1/000",
                               "tile/0/000.p/0",
                               "tile/0/000.p/256",
                               "tile/0/000.p/007",
                               "tile/0/000.p/",
                               "tile/0/000.p",
                               "tile/0/000/",
                               "tile/0/abc",
                               "tile/entries/",
                               "tile/entries/000.p/",
                               "tile/entries/x000/000",
                               "tile/0/x018/x446/x744/x073/x709/x551/616",
                               "tile/0/x001/x018/x446/x744/x073/x709/x551/615",
                               "/tile/0/000",
                               "tile/0//000",
                               "tile/data/000",
                               "tile/0/000.q/5"}) {
    auto p = ParseResourcePath(bad);
    EXPECT_FALSE(p.ok()) << "accepted \"" << bad << "\"";
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(TileShape, MatchesTheSpecExamples) {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
  // tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
  // partial level 2 tile of width 1."
  EXPECT_EQ(FullTileCount(70000, 0), 273u);
  EXPECT_EQ(PartialTileWidth(70000, 0), 112);
  EXPECT_EQ(FullTileCount(70000, 1), 1u);
  EXPECT_EQ(PartialTileWidth(70000, 1), 17);
  EXPECT_EQ(FullTileCount(70000, 2), 0u);
  EXPECT_EQ(PartialTileWidth(70000, 2), 1);
  EXPECT_EQ(TileLevelCount(70000), 3);
  // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile
  // of width 1."
  EXPECT_EQ(FullTileCount(256, 0), 1u);
  EXPECT_EQ(PartialTileWidth(256, 0), 0);
  EXPECT_EQ(PartialTileWidth(256, 1), 1);
  EXPECT_EQ(TileLevelCount(0), 0);
  EXPECT_EQ(TileLevelCount(std::numeric_limits<uint64_t>::max()), 8);
  EXPECT_EQ(PartialTileWidth(std::numeric_limits<uint64_t>::max(), 7), 255);
}

TEST(EntryBundles, RoundTripAndLimits) {
  std::string bundle;
  ASSERT_TRUE(AppendToEntryBundle(&bundle, AsBytes("one")).ok());
  ASSERT_TRUE(AppendToEntryBundle(&bundle, AsBytes("")).ok());
  const std::string big(kMaxEntryBytes, 'x');
  ASSERT_TRUE(AppendToEntryBundle(&bundle, AsBytes(big)).ok());
  EXPECT_EQ(bundle.substr(0, 5), std::string("\x00\x03one", 5));
  auto entries = ParseEntryBundle(bundle, 3);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0], "one");
  EXPECT_EQ((*entries)[1], "");
  EXPECT_EQ((*entries)[2], big);

  const std::string too_big(kMaxEntryBytes + 1, 'x');
  Status st = AppendToEntryBundle(&bundle, AsBytes(too_big));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("65536 bytes exceeds the limit of 65535"), std::string::npos);
}

TEST(EntryBundles, RejectsMalformedBundles) {
  std::string two;
  ASSERT_TRUE(AppendToEntryBundle(&two, AsBytes("ab")).ok());
  ASSERT_TRUE(AppendToEntryBundle(&two, AsBytes("cde")).ok());
  const std::pair<std::string, std::string> cases[] = {
      {two.substr(0, two.size() - 1), "truncated inside entry 1"},
      {two.substr(0, 5), "truncated inside the length of entry 1"},
      {two + "z", "after its 2 entries"},
  };
  for (const auto& [data, why] : cases) {
    auto r = ParseEntryBundle(data, 2);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  }
  auto fewer = ParseEntryBundle(two, 3);
  ASSERT_FALSE(fewer.ok());
  EXPECT_NE(fewer.status().message().find("has 2 entries, expected 3"), std::string::npos);
  EXPECT_FALSE(ParseEntryBundle(two, 1).ok());
  EXPECT_FALSE(ParseEntryBundle(two, 0).ok());
  EXPECT_FALSE(ParseEntryBundle(two, 257).ok());
  EXPECT_FALSE(ParseEntryBundle("", 1).ok());
}

TEST(TileData, SizeIsChecked) {
  EXPECT_TRUE(CheckTileData(std::string(64, 'a'), 2, "t").ok());
  Status st = CheckTileData(std::string(63, 'a'), 2, "tile/0/000.p/2");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("tile/0/000.p/2 is 63 bytes"), std::string::npos);
}

}  // namespace
}  // namespace comity::tlog
