package stamp

import (
	"errors"
	"testing"
	"time"
)

func TestWriteRead(t *testing.T) {
	cases := []struct {
		name string
		size int
		seq  uint32
		ts   int64
	}{
		{"minimum", 12, 1, 1_700_000_000_000_000_000},
		{"padded", 1024, 0xFFFFFFFF, 42},
		{"zero", 16, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := make([]byte, c.size)
			Write(body, c.seq, c.ts)
			seq, ts, err := Read(body)
			if err != nil || seq != c.seq || ts != c.ts {
				t.Fatalf("Read = %d, %d, %v; want %d, %d", seq, ts, err, c.seq, c.ts)
			}
			for i := MinSize; i < len(body); i++ {
				if body[i] != 0 {
					t.Fatalf("padding byte %d = %d, want 0", i, body[i])
				}
			}
		})
	}
}

// TestLayout pins the byte layout shared with PerfTest and omq.
func TestLayout(t *testing.T) {
	body := make([]byte, 12)
	Write(body, 0x01020304, 0x0A0B0C0D0E0F1011)
	want := []byte{1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11}
	for i := range want {
		if body[i] != want[i] {
			t.Fatalf("byte %d = %#x, want %#x", i, body[i], want[i])
		}
	}
}

func TestReadShort(t *testing.T) {
	if _, _, err := Read(make([]byte, 11)); !errors.Is(err, ErrShort) {
		t.Fatalf("err = %v, want ErrShort", err)
	}
}

func TestClockTracksWallClock(t *testing.T) {
	c := NewClock()
	a := c.Now()
	time.Sleep(2 * time.Millisecond)
	b := c.Now()
	if b-a < int64(2*time.Millisecond) {
		t.Fatalf("clock advanced %d ns, want >= 2ms", b-a)
	}
	if d := time.Duration(time.Now().UnixNano() - b); d < -time.Second || d > time.Second {
		t.Fatalf("clock is %v away from the wall clock", d)
	}
}

func BenchmarkWrite(b *testing.B) {
	body := make([]byte, 16)
	c := NewClock()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Write(body, uint32(i), c.Now())
	}
}

func BenchmarkRead(b *testing.B) {
	body := make([]byte, 16)
	Write(body, 1, 2)
	b.ReportAllocs()
	var sum int64
	for i := 0; i < b.N; i++ {
		_, ts, _ := Read(body)
		sum += ts
	}
	_ = sum
}

func TestScheduled(t *testing.T) {
	const sent = int64(1_700_000_000_000_000_000)
	cases := []struct {
		name string
		size int
		due  int64
		ok   bool
	}{
		{"paced", 20, sent - 5_000_000, true},
		{"on time", 32, sent, true},
		{"unpaced zero padding", 20, 0, false},
		{"too short", 16, sent - 1, false},
		{"after the send", 20, sent + 1, false},
		{"hours before", 20, sent - int64(2*time.Hour), false},
	}
	for _, c := range cases {
		body := make([]byte, c.size)
		if c.size >= ScheduledSize {
			WriteScheduled(body, 7, sent, c.due)
		} else {
			Write(body, 7, sent)
		}
		due, ok := Scheduled(body, sent)
		if ok != c.ok || (ok && due != c.due) {
			t.Errorf("%s: Scheduled = %d, %v", c.name, due, ok)
		}
		if seq, ts, _ := Read(body); seq != 7 || ts != sent {
			t.Errorf("%s: the PerfTest-compatible stamp changed", c.name)
		}
	}
}

func TestRunStamp(t *testing.T) {
	body := make([]byte, AuditSize)
	WriteScheduled(body, 9, 1_700_000_000_000_000_000, 1_700_000_000_000_000_000)
	WriteRun(body, 41, 0xFEEDFACECAFEBEEF)
	id, run, ok := Run(body)
	if !ok || id != 41 || run != 0xFEEDFACECAFEBEEF {
		t.Fatalf("Run = %d, %#x, %v", id, run, ok)
	}
	if _, _, ok := Run(make([]byte, AuditSize)); ok {
		t.Fatal("zero padding read as a run stamp")
	}
	if _, _, ok := Run(body[:AuditSize-1]); ok {
		t.Fatal("a short body read as a run stamp")
	}
	if seq, ts, _ := Read(body); seq != 9 || ts != 1_700_000_000_000_000_000 {
		t.Fatal("the PerfTest-compatible stamp changed")
	}
}

// TestSentMillis: a stamp below the limit is milliseconds since the epoch
// (omq without consumers, PerfTest --use-millis), as omq reads it.
func TestSentMillis(t *testing.T) {
	cases := []struct {
		ts     int64
		nanos  int64
		millis bool
	}{
		{1_764_000_000_123, 1_764_000_000_123_000_000, true}, // 2025 in ms
		{MillisLimit - 1, (MillisLimit - 1) * 1_000_000, true},
		{MillisLimit, MillisLimit, false}, // 1970 + 68 min in ns: left as is
		{1_764_000_000_123_456_789, 1_764_000_000_123_456_789, false},
		{0, 0, false},
	}
	for _, c := range cases {
		body := make([]byte, 12)
		Write(body, 1, c.ts)
		_, ns, millis, err := Sent(body)
		if err != nil || ns != c.nanos || millis != c.millis {
			t.Errorf("Sent(%d) = %d, %v, %v", c.ts, ns, millis, err)
		}
	}
}
