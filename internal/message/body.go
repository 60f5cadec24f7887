package message

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Files reads the bodies at path: the file's content, or each regular
// file of the directory in name order.
func Files(path string) ([][]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("message body: %w", err)
	}
	if !fi.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("message body: %w", err)
		}
		return [][]byte{b}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("message bodies: %w", err)
	}
	var out [][]byte
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("message bodies: %w", err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("message bodies: %s holds no regular file", path)
	}
	return out, nil
}

// bodySeed seeds random bodies: every run sends the same bytes.
const bodySeed = 0x626f6479

// block is the span over which a random body mixes random bytes and
// zeros: every prefix of a body longer than a few blocks has the mixture
// of the whole, so the shorter bodies of a size distribution (prefixes of
// the longest) compress about as well.
const block = 64

// calibrationSample bounds the bytes compressed to calibrate a body:
// beyond it DEFLATE's ratio hardly changes with the length.
const calibrationSample = 256 << 10

// Random returns size bytes of seeded random data that DEFLATE at its
// default level shrinks about ratio times (1: incompressible, random
// throughout). In every block of 64 bytes a share of the bytes is random
// and the rest zeros; that share is found by bisection against
// compress/flate itself on the body (or its first 256 KiB), since
// DEFLATE's cost per random byte and per run of zeros depends on both.
// Bodies of a few hundred bytes cannot reach high ratios: DEFLATE's own
// headers outweigh them.
func Random(size int, ratio float64) []byte {
	if ratio <= 1 {
		return fill(size, 1)
	}
	sample := min(size, calibrationSample)
	lo, hi := 0.0, 1.0 // share of random bytes: lo compresses more than ratio, hi less
	for range 24 {
		mid := (lo + hi) / 2
		if Ratio(fill(sample, mid)) > ratio {
			lo = mid
		} else {
			hi = mid
		}
	}
	return fill(size, (lo+hi)/2)
}

// fill makes size bytes, share of each block random (carried over from
// block to block, so that small shares are exact on average).
func fill(size int, share float64) []byte {
	rng := rand.New(rand.NewPCG(bodySeed, uint64(size)))
	b := make([]byte, size)
	var acc float64
	for off := 0; off < size; off += block {
		acc += share * block
		n := int(acc)
		acc -= float64(n)
		for i := off; i < min(off+n, size); i++ {
			b[i] = byte(rng.Uint32())
		}
	}
	return b
}

// Ratio is how many times DEFLATE at its default level shrinks b.
func Ratio(b []byte) float64 {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.DefaultCompression) // the level is valid: no error
	_, _ = w.Write(b)                                       // a bytes.Buffer does not fail
	_ = w.Close()
	return float64(len(b)) / float64(out.Len())
}
