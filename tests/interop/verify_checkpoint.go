// Checks a Consentry log with Go's own transparency-log code (golang.org/x/mod/sumdb):
// the checkpoint opens with note.Open under the log's vkey, every tile read through
// tlog.TileHashReader is checked against the signed root, every entry's record hash is
// proved in the tree (ProveRecord / CheckRecord), and the tree is proved consistent with an
// older size and root (ProveTree / CheckTree).
//
//	go run verify_checkpoint.go LOG_URL VKEY [OLD_SIZE OLD_ROOT_BASE64]
//
// Go's sumdb tile paths carry the height (tile/8/L/N, data tiles tile/8/data/N); C2SP
// tlog-tiles paths do not (tile/L/N, tile/entries/N): the reader maps one onto the other.
package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fetch(url string) ([]byte, error) {
	response, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode != 200 {
		return nil, fmt.Errorf("%s: HTTP %d", url, response.StatusCode)
	}
	return io.ReadAll(response.Body)
}

func c2spPath(tile tlog.Tile) string {
	path := strings.TrimPrefix(tile.Path(), "tile/8/")
	return "tile/" + strings.Replace(path, "data/", "entries/", 1)
}

type tileReader struct{ log string }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		data, err := fetch(r.log + "/" + c2spPath(tile))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 && len(os.Args) != 5 {
		fail("usage: verify_checkpoint LOG_URL VKEY [OLD_SIZE OLD_ROOT_BASE64]")
	}
	log, vkey := strings.TrimSuffix(os.Args[1], "/"), os.Args[2]
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	message, err := fetch(log + "/checkpoint")
	if err != nil {
		fail("%v", err)
	}
	opened, err := note.Open(message, note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(opened.Text, "\n")
	if len(lines) != 4 || lines[0] != verifier.Name() {
		fail("not a checkpoint of %s: %q", verifier.Name(), opened.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("root: %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	hashes := tlog.TileHashReader(tree, tileReader{log})

	// Every entry, from the entry bundles, proved in the signed tree.
	for start := int64(0); start < size; start += 256 {
		width := size - start
		if width > 256 {
			width = 256
		}
		bundle, err := fetch(log + "/" + c2spPath(tlog.Tile{H: 8, L: -1, N: start / 256, W: int(width)}))
		if err != nil {
			fail("%v", err)
		}
		for i := int64(0); i < width; i++ {
			if len(bundle) < 2 {
				fail("entry bundle %d is short", start/256)
			}
			length := int(bundle[0])<<8 | int(bundle[1])
			entry := bundle[2 : 2+length]
			bundle = bundle[2+length:]
			proof, err := tlog.ProveRecord(size, start+i, hashes)
			if err != nil {
				fail("ProveRecord %d: %v", start+i, err)
			}
			if err := tlog.CheckRecord(proof, size, root, start+i, tlog.RecordHash(entry)); err != nil {
				fail("CheckRecord %d: %v", start+i, err)
			}
		}
	}
	if len(os.Args) == 5 {
		oldSize, err := strconv.ParseInt(os.Args[3], 10, 64)
		if err != nil {
			fail("old size: %v", err)
		}
		oldBytes, err := base64.StdEncoding.DecodeString(os.Args[4])
		if err != nil || len(oldBytes) != tlog.HashSize {
			fail("old root: %q", os.Args[4])
		}
		var oldRoot tlog.Hash
		copy(oldRoot[:], oldBytes)
		proof, err := tlog.ProveTree(size, oldSize, hashes)
		if err != nil {
			fail("ProveTree: %v", err)
		}
		if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err != nil {
			fail("CheckTree %d -> %d: %v", oldSize, size, err)
		}
	}
	fmt.Printf("OK %s size %d: note.Open, TileHashReader, ProveRecord/CheckRecord for %d entries", verifier.Name(), size, size)
	if len(os.Args) == 5 {
		fmt.Printf(", ProveTree/CheckTree from %s", os.Args[3])
	}
	fmt.Println()
}
