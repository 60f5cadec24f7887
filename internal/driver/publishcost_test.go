package driver

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/message"
	"github.com/mqbench/mqbench/internal/proc"
	"github.com/mqbench/mqbench/internal/scenario"
)

// BenchmarkLibraryPublish is what the client library's Publish costs with
// the properties and headers a scenario can set, on top of a bare message
// (delivery mode and a 32-byte body): mqbench's own part is free of
// allocation (TestProducerHotPathDoesNotAllocate), the library encodes
// every property and serialises the header table anew for each message.
// Messages go to the default exchange with a key no queue has (the broker
// drops them); cpu-ns/op is the whole process's CPU per message. A short
// run is enough: -benchtime=20000x.
func BenchmarkLibraryPublish(b *testing.B) {
	shapes := []struct {
		name           string
		props, headers bool
	}{{"bare", false, false}, {"properties", true, false}, {"headers", false, true}, {"both", true, true}}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			ch, err := brokertest.Conn(b, brokertest.URL(b)).Channel()
			if err != nil {
				b.Fatal(err)
			}
			p := publishShape(s.props, s.headers)
			key := "mqbench-nowhere-" + brokertest.Suffix(b)
			cpu := proc.CPUTime()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.shapeMessage(int64(i), time.Now().UnixNano())
				if err := ch.Publish("", key, false, false, p.msg); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(proc.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// publishShape is a producer shaped with every property (ids per
// message, the timestamp) and/or three headers — a fixed one and two drawn
// per message — plus the stamp header of the user's bodies.
func publishShape(props, headers bool) *producer {
	p := hotProducer(0)
	p.buf = make([]byte, 32)
	p.msg.DeliveryMode = amqp.Transient
	ms := &messageShape{run: p.runID}
	if props {
		ms.props = scenario.Properties{ContentType: "application/json", ContentEncoding: "identity", Expiration: scenario.Duration(time.Minute),
			MessageID: "{run}-{producer}-{seq}", CorrelationID: "order-{seq}", AppID: "shop", Type: "order.created", UserID: "guest", Timestamp: true}
	}
	if headers {
		sc := scenario.Producers{Headers: drawnHeaders()}
		var draws []scenario.HeaderDraw
		ms.fixed, draws = sc.HeaderDraws()
		ms.deck = message.NewDeck(draws, 1)
		ms.files = [][]byte{make([]byte, 32)} // the stamp in its header, as with the user's bodies
	}
	ms.apply(p)
	return p
}
