package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository, seen from this package's directory.
const root = ".."

func read(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeKnown decodes YAML into v, failing on any key v does not declare.
func decodeKnown(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// --- docker-compose.yml ------------------------------------------------------

// compose is the part of the Compose specification docker-compose.yml
// uses; an unknown (misspelled) key fails the decode. (The whole file was
// also checked against the Compose schema with compose-go when written.)
type compose struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Hostname    string            `yaml:"hostname"`
	Profiles    []string          `yaml:"profiles"`
	Command     []string          `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Environment map[string]string `yaml:"environment"`
	ExtraHosts  []string          `yaml:"extra_hosts"`
	Healthcheck *composeHealth    `yaml:"healthcheck"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Ulimits map[string]struct {
		Soft int `yaml:"soft"`
		Hard int `yaml:"hard"`
	} `yaml:"ulimits"`
}

type composeHealth struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

func TestCompose(t *testing.T) {
	var c compose
	decodeKnown(t, "docker-compose.yml", read(t, "docker-compose.yml"), &c)

	// The quick start and scripts/broker.sh run `docker compose up -d --wait
	// rabbitmq`: the service must keep its name, start without a profile and
	// have a healthcheck for --wait.
	rmq, ok := c.Services["rabbitmq"]
	if !ok {
		t.Fatal("no rabbitmq service (scripts/broker.sh starts it by that name)")
	}
	if len(rmq.Profiles) != 0 {
		t.Errorf("rabbitmq must start without a profile, has %v", rmq.Profiles)
	}
	if !regexp.MustCompile(`^rabbitmq:4\.\d+(\.\d+)?-management$`).MatchString(rmq.Image) {
		t.Errorf("rabbitmq image %q: want an official 4.x -management tag", rmq.Image)
	}
	if hc := rmq.Healthcheck; hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" || hc.Test[1] != "rabbitmq-diagnostics" ||
		!(slices.Contains(hc.Test, "ping") || slices.Contains(hc.Test, "check_port_connectivity")) {
		t.Errorf("rabbitmq healthcheck %+v: want rabbitmq-diagnostics ping (or check_port_connectivity)", rmq.Healthcheck)
	}
	published := map[string]map[string]bool{}
	for name, s := range c.Services {
		published[name] = map[string]bool{}
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			if len(parts) != 3 || parts[0] != "127.0.0.1" {
				t.Errorf("%s publishes %q: every port must be bound to 127.0.0.1 (HOST_IP:HOST:CONTAINER)", name, p)
				continue
			}
			published[name][parts[2]] = true
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
			t.Errorf("%s has no healthcheck (docker compose up --wait needs one)", name)
		}
		if !strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest") {
			t.Errorf("%s image %q: pin a tag", name, s.Image)
		}
		for _, v := range s.Volumes {
			src := strings.SplitN(v, ":", 2)[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
				if !strings.HasSuffix(v, ":ro") {
					t.Errorf("%s: mount repository files read-only: %s", name, v)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s uses volume %s, which is not declared", name, src)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
	}
	for _, port := range []string{"5672", "15672", "15692"} {
		if !published["rabbitmq"][port] {
			t.Errorf("rabbitmq does not publish %s on 127.0.0.1", port)
		}
	}

	for name, port := range map[string]string{"prometheus": "9090", "grafana": "3000"} {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("no %s service", name)
			continue
		}
		if !slices.Equal(s.Profiles, []string{"observability"}) {
			t.Errorf("%s profiles = %v, want [observability]", name, s.Profiles)
		}
		if !published[name][port] {
			t.Errorf("%s does not publish %s on 127.0.0.1", name, port)
		}
	}
	prom := c.Services["prometheus"]
	if !strings.HasPrefix(prom.Image, "prom/prometheus:v3.") {
		t.Errorf("prometheus image %q: the native-histogram settings in prometheus.yml are Prometheus 3.9+'s", prom.Image)
	}
	if !slices.Contains(prom.ExtraHosts, "host.docker.internal:host-gateway") {
		t.Errorf("prometheus needs extra_hosts host.docker.internal:host-gateway to reach mqbench on a Linux host")
	}
	if !slices.Contains(prom.Command, "--config.file=/etc/prometheus/prometheus.yml") ||
		!slices.Contains(prom.Volumes, "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro") {
		t.Errorf("prometheus must load deploy/prometheus/prometheus.yml: command %v, volumes %v", prom.Command, prom.Volumes)
	}
	for _, f := range prom.Command {
		if strings.Contains(f, "native-histograms") {
			t.Errorf("%s: a no-op since Prometheus 3.9; prometheus.yml sets scrape_native_histograms", f)
		}
	}
	graf := c.Services["grafana"]
	if !strings.HasPrefix(graf.Image, "grafana/grafana:") {
		t.Errorf("grafana image %q", graf.Image)
	}
	for _, want := range []string{
		"./deploy/grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro",
		"./deploy/grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro",
		"./deploy/grafana/mqbench.json:" + dashboardDir + "/mqbench.json:ro",
	} {
		if !slices.Contains(graf.Volumes, want) {
			t.Errorf("grafana does not mount %s", want)
		}
	}
}

// dashboardDir is where docker-compose.yml mounts the dashboard and where the
// dashboard provider looks.
const dashboardDir = "/etc/mqbench/grafana-dashboards"

// --- deploy/prometheus/prometheus.yml -------------------------------------------

type promConfig struct {
	Global struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		ScrapeTimeout      string `yaml:"scrape_timeout"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	} `yaml:"global"`
	ScrapeConfigs []promScrapeConfig `yaml:"scrape_configs"`
}

type promScrapeConfig struct {
	JobName                       string              `yaml:"job_name"`
	MetricsPath                   string              `yaml:"metrics_path"`
	Params                        map[string][]string `yaml:"params"`
	ScrapeNativeHistograms        *bool               `yaml:"scrape_native_histograms"`
	AlwaysScrapeClassicHistograms *bool               `yaml:"always_scrape_classic_histograms"`
	ScrapeProtocols               []string            `yaml:"scrape_protocols"`
	StaticConfigs                 []struct {
		Targets []string          `yaml:"targets"`
		Labels  map[string]string `yaml:"labels"`
	} `yaml:"static_configs"`
}

func TestPrometheusConfig(t *testing.T) {
	var p promConfig
	decodeKnown(t, "deploy/prometheus/prometheus.yml", read(t, "deploy/prometheus/prometheus.yml"), &p)
	jobs := map[string]int{}
	for i, sc := range p.ScrapeConfigs {
		jobs[sc.JobName] = i
	}
	mq, ok := jobs["mqbench"]
	if !ok {
		t.Fatal("no mqbench scrape job")
	}
	m := p.ScrapeConfigs[mq]
	if m.ScrapeNativeHistograms == nil || !*m.ScrapeNativeHistograms {
		t.Error("the mqbench job must set scrape_native_histograms: true (Prometheus >= 3.9 scrapes native histograms only then)")
	}
	if m.AlwaysScrapeClassicHistograms == nil || !*m.AlwaysScrapeClassicHistograms {
		t.Error("the mqbench job should keep the classic buckets too (always_scrape_classic_histograms)")
	}
	if len(m.StaticConfigs) == 0 || !slices.Contains(m.StaticConfigs[0].Targets, "host.docker.internal:9419") {
		t.Error("the mqbench job must scrape host.docker.internal:9419")
	}
	rq, ok := jobs["rabbitmq"]
	if !ok || len(p.ScrapeConfigs[rq].StaticConfigs) == 0 || !slices.Contains(p.ScrapeConfigs[rq].StaticConfigs[0].Targets, "rabbitmq:15692") {
		t.Error("no rabbitmq job scraping rabbitmq:15692")
	}
	if q, ok := jobs["rabbitmq-queues"]; !ok || p.ScrapeConfigs[q].MetricsPath != "/metrics/detailed" ||
		!slices.Equal(p.ScrapeConfigs[q].Params["family"], []string{"queue_coarse_metrics"}) {
		t.Error("the per-queue job must scrape /metrics/detailed?family=queue_coarse_metrics (the dashboard's rabbitmq_detailed_* series)")
	}
}

// --- deploy/grafana ----------------------------------------------------------------

// The mqbench series (the /metrics contract); histograms also as their
// classic _bucket, _sum and _count series.
var mqbenchCounters = []string{
	"mqbench_messages_published_total", "mqbench_messages_confirmed_total", "mqbench_messages_nacked_total",
	"mqbench_messages_returned_total", "mqbench_messages_consumed_total", "mqbench_messages_foreign_total",
	"mqbench_rpc_requests_total", "mqbench_rpc_replies_total", "mqbench_rpc_timeouts_total",
}
var mqbenchGauges = []string{
	"mqbench_connections_up", "mqbench_connections_blocked", "mqbench_backlog_messages",
	"mqbench_workers", "mqbench_client_cpu_cores",
}
var mqbenchHistograms = []string{
	"mqbench_end_to_end_latency_seconds", "mqbench_confirm_latency_seconds",
	"mqbench_rpc_latency_seconds", "mqbench_send_lag_seconds",
}

// rabbitmqMetrics are rabbitmq_prometheus names the dashboard may use, as
// RabbitMQ 4.x's plugin emits them (checked against its collectors'
// definitions). Add a name here when a panel needs a new one.
var rabbitmqMetrics = []string{
	"rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked", "rabbitmq_queue_messages",
	"rabbitmq_detailed_queue_messages_ready", "rabbitmq_detailed_queue_messages_unacked", "rabbitmq_detailed_queue_messages",
	"rabbitmq_connections", "rabbitmq_channels", "rabbitmq_consumers", "rabbitmq_queues",
	"rabbitmq_process_resident_memory_bytes", "rabbitmq_resident_memory_limit_bytes",
	"rabbitmq_disk_space_available_bytes", "rabbitmq_disk_space_available_limit_bytes",
	"rabbitmq_alarms_memory_used_watermark", "rabbitmq_alarms_free_disk_space_watermark", "rabbitmq_alarms_file_descriptor_limit",
	"rabbitmq_global_messages_received_total", "rabbitmq_global_messages_routed_total",
	"rabbitmq_global_messages_confirmed_total", "rabbitmq_global_messages_delivered_total",
	"rabbitmq_global_messages_acknowledged_total",
}

func allowedMetrics() map[string]bool {
	ok := map[string]bool{}
	for _, m := range append(append(append([]string{}, mqbenchCounters...), mqbenchGauges...), rabbitmqMetrics...) {
		ok[m] = true
	}
	for _, h := range mqbenchHistograms {
		for _, s := range []string{"", "_bucket", "_sum", "_count"} {
			ok[h+s] = true
		}
	}
	return ok
}

var (
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlBraces   = regexp.MustCompile(`\{[^{}]*\}`)
	promqlBrackets = regexp.MustCompile(`\[[^\[\]]*\]`)
	promqlLabelSet = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promqlKeywords = map[string]bool{
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true, "inf": true, "nan": true,
	}
)

// metricNames returns the metric names a PromQL expression selects: what is
// left once strings, label matchers, ranges and label lists are removed, and
// function and aggregation names (followed by "(") and keywords skipped.
func metricNames(expr string) []string {
	s := promqlStrings.ReplaceAllString(expr, `""`)
	s = promqlBraces.ReplaceAllString(s, " ")
	s = promqlBrackets.ReplaceAllString(s, " ")
	s = promqlLabelSet.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promqlIdent.FindAllStringIndex(s, -1) {
		id := s[loc[0]:loc[1]]
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // part of a number (1e3) or duration
		}
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || promqlKeywords[strings.ToLower(id)] {
			continue
		}
		out = append(out, id)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	cases := map[string][]string{
		`sum(rate(mqbench_messages_published_total{scenario=~"$scenario"}[$__rate_interval]))`:                      {"mqbench_messages_published_total"},
		`histogram_quantile(0.99, sum by (le) (rate(mqbench_send_lag_seconds_bucket{a="{b}"}[5m])))`:                {"mqbench_send_lag_seconds_bucket"},
		`topk(10, sum by (vhost, queue) (rabbitmq_detailed_queue_messages_ready)) or on() vector(0)`:                {"rabbitmq_detailed_queue_messages_ready"},
		`up == 1 and process_cpu_seconds_total > 1e3`:                                                               {"up", "process_cpu_seconds_total"},
		`max(mqbench_backlog_messages) / ignoring(shard) group_left sum without (role) (mqbench_workers) offset 5m`: {"mqbench_backlog_messages", "mqbench_workers"},
	}
	for expr, want := range cases {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasourceRef  `json:"datasource"`
			IncludeAll bool            `json:"includeAll"`
			AllValue   string          `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *datasourceRef           `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

func loadDashboard(t *testing.T) (dashboard, []panel) {
	t.Helper()
	data := read(t, "deploy/grafana/mqbench.json")
	if !json.Valid(data) {
		t.Fatal("deploy/grafana/mqbench.json is not valid JSON")
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	var all []panel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	return d, all
}

func TestDashboard(t *testing.T) {
	d, panels := loadDashboard(t)
	if d.UID != "mqbench" || d.Title != "mqbench" {
		t.Errorf("uid %q title %q, want mqbench and mqbench", d.UID, d.Title)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch v.Name {
		case "datasource":
			if v.Type != "datasource" || string(v.Query) != `"prometheus"` {
				t.Errorf("the datasource variable must list Prometheus datasources, is %s %s", v.Type, v.Query)
			}
		case "scenario", "variant", "shard":
			if v.Type != "query" || v.Datasource == nil || v.Datasource.UID != "${datasource}" || !v.IncludeAll || v.AllValue != ".*" {
				t.Errorf("variable %s: want a query on ${datasource} with All = .*", v.Name)
			}
			if !strings.Contains(string(v.Query), "label_values(") || !strings.Contains(string(v.Query), ", "+v.Name+")") {
				t.Errorf("variable %s: query %s does not list that label's values", v.Name, v.Query)
			}
		}
	}
	for _, want := range []string{"datasource", "scenario", "variant", "shard"} {
		if !vars[want] {
			t.Errorf("no %s variable", want)
		}
	}

	allowed := allowedMetrics()
	ids := map[int]bool{}
	var exprs []string
	var rowTitles []string
	for _, p := range panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			rowTitles = append(rowTitles, p.Title)
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q: datasource must be the ${datasource} variable, is %+v", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q query %s: datasource must be ${datasource}", p.Title, tg.RefID)
			}
			exprs = append(exprs, tg.Expr)
			names := metricNames(tg.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q query %s selects no metric: %s", p.Title, tg.RefID, tg.Expr)
			}
			for _, n := range names {
				if !allowed[n] {
					t.Errorf("panel %q uses %s, which is neither an mqbench series nor a known rabbitmq_prometheus one: %s", p.Title, n, tg.Expr)
				}
			}
			if strings.HasPrefix(names[0], "mqbench_") && !strings.Contains(tg.Expr, `scenario=~"$scenario", variant=~"$variant", shard=~"$shard"`) {
				t.Errorf("panel %q query %s ignores the scenario/variant/shard variables: %s", p.Title, tg.RefID, tg.Expr)
			}
		}
	}
	all := strings.Join(exprs, "\n")
	for _, c := range mqbenchCounters {
		if !strings.Contains(all, "rate("+c+"{") {
			t.Errorf("no panel shows the rate of %s", c)
		}
	}
	for _, g := range mqbenchGauges {
		if !strings.Contains(all, g+"{") {
			t.Errorf("no panel shows %s", g)
		}
	}
	// Latency: p50, p99 and p99.9 of each histogram, from the native
	// histogram with the classic buckets as the fallback.
	for _, h := range mqbenchHistograms {
		for _, q := range []string{"0.5", "0.99", "0.999"} {
			native := fmt.Sprintf("histogram_quantile(%s, sum(rate(%s{", q, h)
			classic := fmt.Sprintf("histogram_quantile(%s, sum by (le) (rate(%s_bucket{", q, h)
			if !strings.Contains(all, native+`scenario=~"$scenario", variant=~"$variant", shard=~"$shard"}[$__rate_interval]))) or `+classic) {
				t.Errorf("no p%s panel query for %s (native, or classic buckets)", q, h)
			}
		}
	}
	for _, b := range []string{"rabbitmq_queue_messages_ready", "rabbitmq_process_resident_memory_bytes", "rabbitmq_connections", "rabbitmq_alarms_memory_used_watermark"} {
		if !strings.Contains(all, b) {
			t.Errorf("the broker row does not show %s", b)
		}
	}
	if !slices.ContainsFunc(rowTitles, func(s string) bool { return strings.Contains(s, "rabbitmq_prometheus") }) {
		t.Errorf("no broker row (rows: %v)", rowTitles)
	}
	checkLayout(t, panels)
}

// checkLayout: every panel fits the 24-column grid and none overlaps another.
func checkLayout(t *testing.T, panels []panel) {
	t.Helper()
	type cell struct{ x, y int }
	used := map[cell]string{}
	for _, p := range panels {
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, g)
			continue
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := used[cell{x, y}]; ok {
					t.Errorf("panels %q and %q overlap at %d,%d", other, p.Title, x, y)
					return
				}
				used[cell{x, y}] = p.Title
			}
		}
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string         `yaml:"name"`
			UID       string         `yaml:"uid"`
			Type      string         `yaml:"type"`
			Access    string         `yaml:"access"`
			URL       string         `yaml:"url"`
			IsDefault bool           `yaml:"isDefault"`
			Editable  bool           `yaml:"editable"`
			JSONData  map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	decodeKnown(t, "datasources/prometheus.yml", read(t, "deploy/grafana/provisioning/datasources/prometheus.yml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("want apiVersion 1 and one datasource")
	}
	if d := ds.Datasources[0]; d.Type != "prometheus" || d.URL != "http://prometheus:9090" || d.UID == "" {
		t.Errorf("datasource %+v: want the compose Prometheus service", d)
	}

	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Folder                string `yaml:"folder"`
			Type                  string `yaml:"type"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	decodeKnown(t, "dashboards/mqbench.yml", read(t, "deploy/grafana/provisioning/dashboards/mqbench.yml"), &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path != dashboardDir {
		t.Errorf("the dashboard provider must read files from %s (where docker-compose.yml mounts the dashboard): %+v", dashboardDir, dp)
	}
}

// --- Dockerfile ------------------------------------------------------------------

func TestDockerfile(t *testing.T) {
	df := string(read(t, "Dockerfile"))
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^FROM golang:1\.26 AS build$`),
		regexp.MustCompile(`go build -trimpath .*-o /mqbench \./cmd/mqbench`),
		regexp.MustCompile(`(?m)^COPY --from=build /mqbench /mqbench$`),
		regexp.MustCompile(`(?m)^USER [1-9]\d*:[1-9]\d*$`),
		regexp.MustCompile(`(?m)^ENTRYPOINT \["/mqbench"\]$`),
	} {
		if !want.MatchString(df) {
			t.Errorf("the Dockerfile has no line matching %s", want)
		}
	}
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) != 2 {
		t.Fatalf("want a two-stage build, found %d FROM lines", len(froms))
	}
	if rt := froms[1][1]; !strings.HasPrefix(rt, "alpine:") && !strings.HasPrefix(rt, "gcr.io/distroless/") {
		t.Errorf("runtime image %s: want alpine or distroless", rt)
	}
	// The Kubernetes Job runs its wrapper with /bin/sh: distroless has none.
	if job := string(read(t, "deploy/kubernetes/job.yaml")); strings.Contains(job, "- /bin/sh") && strings.HasPrefix(froms[1][1], "gcr.io/distroless/") {
		t.Error("the Job needs /bin/sh in the image")
	}
}
