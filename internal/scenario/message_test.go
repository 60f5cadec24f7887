package scenario

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestLoadMessageShape(t *testing.T) {
	sc, _, err := Load("testdata/message.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatal(p)
	}
	p := sc.Producers
	if p.Size != 0 || !p.UserBody() || !p.Audited() || p.ExpirationMillis() != 60_000 {
		t.Fatalf("size %d user body %v audited %v expiration %d", p.Size, p.UserBody(), p.Audited(), p.ExpirationMillis())
	}
	fixed, draws := p.HeaderDraws()
	if len(fixed) != 1 || fixed["tenant"] != "acme" || len(draws) != 2 || draws[0].Name != "region" || draws[1].Name != "shard" {
		t.Fatalf("fixed %v draws %+v", fixed, draws)
	}
	if w := draws[0].Weights; w[0] != 2 || w[1] != 1 || w[2] != 1 { // divided by their gcd
		t.Fatalf("region weights %v", w)
	}
	if v := draws[1].Values; len(v) != 4 || v[0] != int64(1) || v[3] != int64(4) {
		t.Fatalf("shard values %v", v)
	}
	if draws[0].Slots()*draws[1].Slots() != 16 {
		t.Fatalf("%d × %d slots, want 4 × 4", draws[0].Slots(), draws[1].Slots())
	}
}

func TestMessageErrorsNameTheLine(t *testing.T) {
	sc, src, err := Load("testdata/bad-message.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	msg := sc.Validate().Explain(src, nil)
	for _, w := range []string{"testdata/bad-message.yaml:3: producers.properties.message_id", "unknown placeholder {uuid}",
		"testdata/bad-message.yaml:5: producers.headers.region", "weights must be a list of 2 integers"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not mention %q", msg, w)
		}
	}
}

func TestValidateMessage(t *testing.T) {
	draw := func(spec map[string]any) func(*Scenario) {
		return func(s *Scenario) { s.Producers.Headers = map[string]any{"h": spec} }
	}
	props := func(edit func(*Properties)) func(*Scenario) {
		return func(s *Scenario) {
			s.Producers.Properties = &Properties{}
			edit(s.Producers.Properties)
		}
	}
	long := strings.Repeat("x", 256)
	cases := []struct {
		name  string
		edit  func(*Scenario)
		field string // "" = valid
	}{
		{"every property", props(func(p *Properties) {
			*p = Properties{ContentType: "text/plain", ContentEncoding: "gzip", Expiration: Duration(time.Second), MessageID: "{run}-{producer}-{seq}",
				CorrelationID: "fixed", AppID: "a", Type: "t", UserID: "guest", Timestamp: true}
		}), ""},
		{"content type too long", props(func(p *Properties) { p.ContentType = long }), "producers.properties.content_type"},
		{"user id too long", props(func(p *Properties) { p.UserID = long }), "producers.properties.user_id"},
		{"unknown placeholder", props(func(p *Properties) { p.MessageID = "{uuid}" }), "producers.properties.message_id"},
		{"unclosed placeholder", props(func(p *Properties) { p.CorrelationID = "a-{seq" }), "producers.properties.correlation_id"},
		{"id too long", props(func(p *Properties) { p.MessageID = strings.Repeat("{run}", 16) }), "producers.properties.message_id"},
		{"expiration below a millisecond", props(func(p *Properties) { p.Expiration = Duration(time.Microsecond) }), "producers.properties.expiration"},
		{"expiration in fractions of a millisecond", props(func(p *Properties) { p.Expiration = Duration(1500 * time.Microsecond) }), "producers.properties.expiration"},
		{"expiration beyond 2^32 ms", props(func(p *Properties) { p.Expiration = Duration(50 * 24 * time.Hour) }), "producers.properties.expiration"},
		{"drawn values", draw(map[string]any{"values": []any{"a", 2, true, 1.5}}), ""},
		{"weighted values", draw(map[string]any{"values": []any{"a", "b"}, "weights": []any{3, 1}}), ""},
		{"integer range", draw(map[string]any{"min": -2, "max": 2}), ""},
		{"values and a range", draw(map[string]any{"values": []any{"a"}, "min": 1, "max": 2}), "producers.headers.h"},
		{"no values", draw(map[string]any{"values": []any{}}), "producers.headers.h"},
		{"a null value", draw(map[string]any{"values": []any{"a", nil}}), "producers.headers.h"},
		{"a list value", draw(map[string]any{"values": []any{[]any{1}}}), "producers.headers.h"},
		{"weights of another length", draw(map[string]any{"values": []any{"a", "b"}, "weights": []any{1}}), "producers.headers.h"},
		{"a zero weight", draw(map[string]any{"values": []any{"a", "b"}, "weights": []any{1, 0}}), "producers.headers.h"},
		{"weights over a range", draw(map[string]any{"min": 1, "max": 3, "weights": []any{1, 2, 1}}), ""},
		{"weights not matching a range", draw(map[string]any{"min": 1, "max": 3, "weights": []any{1, 2}}), "producers.headers.h"},
		{"min above max", draw(map[string]any{"min": 3, "max": 1}), "producers.headers.h"},
		{"too wide a range", draw(map[string]any{"min": 0, "max": MaxHeaderValues}), "producers.headers.h"},
		{"a range whose width overflows", draw(map[string]any{"min": math.MinInt64, "max": 0}), "producers.headers.h"},
		{"an unknown field", draw(map[string]any{"values": []any{"a"}, "order": "random"}), "producers.headers.h"},
		{"a deck too large", func(s *Scenario) {
			s.Producers.Headers = map[string]any{"a": map[string]any{"min": 1, "max": 200}, "b": map[string]any{"min": 1, "max": 200}}
		}, "producers.headers"},
		{"too many routes for the audit", func(s *Scenario) {
			s.Exchange = Exchange{Name: "x", Type: ExchangeHeaders}
			s.Producers.RoutingKeys = make([]string, 200)
			s.Producers.Headers = map[string]any{"a": map[string]any{"min": 1, "max": 1000}, "b": map[string]any{"values": []any{1, 2, 3, 4, 5, 6, 7, 8}}}
		}, "producers.headers"},
		{"the stamp header", func(s *Scenario) { s.Producers.Headers = map[string]any{StampHeader: "x"} }, "producers.headers." + StampHeader},
		{"a fixed header of a bad kind", func(s *Scenario) { s.Producers.Headers = map[string]any{"h": []any{1}} }, "producers.headers.h"},
		{"a body file", func(s *Scenario) { s.Producers.Body = &Body{Path: "testdata/bodies/a.json"} }, ""},
		{"a body directory", func(s *Scenario) { s.Producers.Body = &Body{Path: "testdata/bodies"} }, ""},
		{"a missing body file", func(s *Scenario) { s.Producers.Body = &Body{Path: "testdata/no-such-body"} }, "producers.body.path"},
		{"a directory without files", func(s *Scenario) { s.Producers.Body = &Body{Path: t.TempDir()} }, "producers.body.path"},
		{"a body file and a size", func(s *Scenario) { s.Producers.Body, s.Producers.Size = &Body{Path: "testdata/bodies"}, 100 }, "producers.size"},
		{"a body file and a ratio", func(s *Scenario) {
			s.Producers.Body = &Body{Path: "testdata/bodies", CompressionRatio: 2}
		}, "producers.body.compression_ratio"},
		{"a paced body file", func(s *Scenario) { s.Producers.Body, s.Producers.Rate = &Body{Path: "testdata/bodies"}, 10 }, ""},
		{"compressible bodies", func(s *Scenario) { s.Producers.Body, s.Producers.Size = &Body{CompressionRatio: 3}, 4096 }, ""},
		{"a ratio below 1", func(s *Scenario) { s.Producers.Body = &Body{CompressionRatio: 0.5} }, "producers.body.compression_ratio"},
		{"a ratio above the bound", func(s *Scenario) { s.Producers.Body = &Body{CompressionRatio: 1000} }, "producers.body.compression_ratio"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := Default()
			c.edit(&sc)
			sc.Normalize()
			p := sc.Validate()
			if c.field == "" {
				if p != nil {
					t.Fatalf("rejected: %v", p)
				}
				return
			}
			found := false
			for _, e := range p {
				found = found || e.Path == c.field
			}
			if !found {
				t.Fatalf("problems %v do not name %s", p, c.field)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	parts, err := ParseID("a{run}b{producer}{seq}")
	if err != nil || len(parts) != 5 || parts[0].Text != "a" || parts[1].Field != IDRun || parts[3].Field != IDProducer || parts[4].Field != IDSeq {
		t.Fatalf("%+v %v", parts, err)
	}
	if parts, err := ParseID(""); err != nil || parts != nil {
		t.Fatalf("empty template: %+v %v", parts, err)
	}
}
