package audit

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Bits is a track's window in a document: its first ordinal (a multiple
// of 64) and its words, bit i of word w standing for ordinal
// Base+64w+i. A shard's window holds a bit for every message of a queue
// it shares with other shards: as words it costs an eighth of a byte a
// message, where runs of one would cost bytes.
type Bits struct {
	Base  uint64
	Words []uint64
}

type bitsDoc struct {
	Base  uint64 `json:"base"`
	Words string `json:"words"` // base64 of the words, little-endian
}

// MarshalJSON writes the base and the words in base64.
func (b Bits) MarshalJSON() ([]byte, error) {
	raw := make([]byte, 8*len(b.Words))
	for i, w := range b.Words {
		binary.LittleEndian.PutUint64(raw[8*i:], w)
	}
	return json.Marshal(bitsDoc{Base: b.Base, Words: base64.StdEncoding.EncodeToString(raw)})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (b *Bits) UnmarshalJSON(data []byte) error {
	var d bitsDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("window: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(d.Words)
	if err != nil || len(raw)%8 != 0 {
		return fmt.Errorf("window: %d bytes of words (%v)", len(raw), err)
	}
	*b = Bits{Base: d.Base, Words: make([]uint64, len(raw)/8)}
	for i := range b.Words {
		b.Words[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return nil
}
