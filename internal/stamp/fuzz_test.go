package stamp

import "testing"

// FuzzRead: any bytes decode without panicking; what Write stamped reads
// back unchanged, with or without a scheduled time.
func FuzzRead(f *testing.F) {
	f.Add([]byte{}, uint32(0), int64(0), int64(0))
	f.Add(make([]byte, 12), uint32(7), int64(1_700_000_000_000_000_000), int64(0))
	f.Add(make([]byte, 64), uint32(1), int64(1_700_000_000_000_000_000), int64(1_699_999_999_999_000_000))
	f.Fuzz(func(t *testing.T, body []byte, seq uint32, sent, due int64) {
		_, _, _ = Read(body)
		_, _ = Scheduled(body, sent)
		if len(body) < MinSize {
			return
		}
		b := append([]byte(nil), body...)
		if len(b) >= ScheduledSize {
			WriteScheduled(b, seq, sent, due)
			if d, ok := Scheduled(b, sent); ok && d != due {
				t.Fatalf("scheduled %d read back as %d", due, d)
			}
		} else {
			Write(b, seq, sent)
		}
		if s, ts, err := Read(b); err != nil || s != seq || ts != sent {
			t.Fatalf("stamp %d/%d read back as %d/%d (%v)", seq, sent, s, ts, err)
		}
	})
}
