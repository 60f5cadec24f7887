package main

// propRunFlags are the message property and body flags: the commonly used
// ones. The rest — content encoding, correlation id, app id, type, user
// id, timestamp, headers fixed or drawn per message — are set in the
// scenario file (producers.properties, producers.headers).
func propRunFlags() []runFlag {
	return []runFlag{
		{name: "content-type", arg: "TYPE", path: "producers.properties.content_type",
			usage: "content-type property of every message, e.g. application/json"},
		{name: "expiration", arg: "D", path: "producers.properties.expiration",
			usage: "per-message TTL, the expiration property (whole milliseconds); the audit counts it as a TTL"},
		{name: "message-id", arg: "TEMPLATE", path: "producers.properties.message_id",
			usage: `message-id of every message, a template: {run}, {producer} and {seq} are replaced ("{run}-{producer}-{seq}" is unique per message)`},
		{name: "body", arg: "PATH", path: "producers.body.path",
			usage: "a file whose content is every message's body, or a directory whose files are the bodies in turn; " +
				"the stamp then travels in the x-mqbench-stamp header"},
		{name: "body-compression-ratio", arg: "R", path: "producers.body.compression_ratio",
			usage: "random bodies that DEFLATE compresses this many times (1 = incompressible; default: zeros)"},
	}
}
