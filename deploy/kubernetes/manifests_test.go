package kubernetes_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/mqbench/mqbench/internal/scenario"
)

// What the manifests promise the rest of the project.
const (
	secretName    = "mqbench-broker"
	secretKey     = "url"
	configMapName = "mqbench-scenario"
	containerName = "mqbench"
	metricsPort   = 9419
	imageName     = "mqbench" // the name kustomization.yaml's images: entry replaces
)

// wantArgs are the container's args: shard count, start time and result
// path come from the container's env through Kubernetes' $(VAR) expansion.
var wantArgs = []string{
	"run", "/config/scenario.yaml",
	"--shards", "$(MQBENCH_SHARDS)",
	"--start-at", "$(START_AT)",
	"--out", "/results/shard-$(JOB_COMPLETION_INDEX).json",
	"--quiet",
	"--prometheus", fmt.Sprintf("0.0.0.0:%d", metricsPort),
}

// notKustomized are manifests deliberately left out of kustomization.yaml.
var notKustomized = map[string]string{
	"secret.example.yaml": "a template: applying it would overwrite the real Secret with the placeholder",
	"podmonitor.yaml":     "needs the Prometheus Operator's CRD",
}

// --- strict decoding --------------------------------------------------------

var (
	scheme  = newScheme()
	decoder = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, batchv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

// Kustomization and PodMonitor are not Kubernetes API types: they are decoded
// strictly into these, which hold every field the manifests may use.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Namespace  string   `json:"namespace,omitempty"`
	NameSuffix string   `json:"nameSuffix,omitempty"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
	Labels []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
	ConfigMapGenerator []struct {
		Name     string   `json:"name"`
		Behavior string   `json:"behavior,omitempty"`
		Files    []string `json:"files,omitempty"`
	} `json:"configMapGenerator,omitempty"`
	Patches []struct {
		Patch string `json:"patch,omitempty"`
		Path  string `json:"path,omitempty"`
	} `json:"patches,omitempty"`
}

// podMonitor is the part of monitoring.coreos.com/v1 PodMonitor used here
// (field names as in the Prometheus Operator's API).
type podMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		PodMetricsEndpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

// manifest is one YAML document of one file, decoded.
type manifest struct {
	file string
	doc  int
	obj  any // *batchv1.Job, *corev1.ConfigMap, ..., *kustomization, *podMonitor
}

func (m manifest) String() string { return fmt.Sprintf("%s#%d", m.file, m.doc) }

// splitYAML returns the non-empty documents of a multi-document YAML stream.
func splitYAML(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// decodeStrict decodes one document by its kind into the official type (or
// the local one for Kustomization and PodMonitor), failing on any field the
// type does not have, on a field written in the wrong case and on a key
// written twice.
func decodeStrict(doc []byte) (any, error) {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	switch tm.Kind {
	case "":
		return nil, errors.New("no kind")
	case "Kustomization":
		var k kustomization
		return &k, sigsyaml.UnmarshalStrict(doc, &k)
	case "PodMonitor":
		var p podMonitor
		if tm.APIVersion != "monitoring.coreos.com/v1" {
			return nil, fmt.Errorf("PodMonitor apiVersion %q, want monitoring.coreos.com/v1", tm.APIVersion)
		}
		return &p, sigsyaml.UnmarshalStrict(doc, &p)
	}
	obj, _, err := decoder.Decode(doc, nil, nil)
	if err != nil {
		return nil, err
	}
	switch obj.(type) {
	case *batchv1.Job, *corev1.ConfigMap, *corev1.Secret, *corev1.Service, *corev1.PersistentVolumeClaim:
		return obj, nil
	}
	return nil, fmt.Errorf("kind %s (%T) is not one these tests know", tm.Kind, obj)
}

func decodeAll(t *testing.T, name string, data []byte) []manifest {
	t.Helper()
	docs, err := splitYAML(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []manifest
	for i, d := range docs {
		obj, err := decodeStrict(d)
		if err != nil {
			t.Fatalf("%s#%d: strict decode: %v", name, i, err)
		}
		out = append(out, manifest{file: name, doc: i, obj: obj})
	}
	return out
}

// manifestFiles lists the YAML files of this directory.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no manifests found")
	}
	return files
}

func loadManifests(t *testing.T) []manifest {
	t.Helper()
	var all []manifest
	for _, f := range manifestFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, decodeAll(t, f, data)...)
	}
	return all
}

func only[T any](t *testing.T, ms []manifest, what string) (T, manifest) {
	t.Helper()
	var found []manifest
	for _, m := range ms {
		if _, ok := m.obj.(T); ok {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want exactly one %s, found %d: %v", what, len(found), found)
		return zero, manifest{}
	}
	return found[0].obj.(T), found[0]
}

func configMapNamed(ms []manifest, name string) *corev1.ConfigMap {
	for _, m := range ms {
		if cm, ok := m.obj.(*corev1.ConfigMap); ok && cm.Name == name {
			return cm
		}
	}
	return nil
}

// --- the tests ---------------------------------------------------------------

func TestEveryManifestDecodesStrictly(t *testing.T) {
	ms := loadManifests(t)
	kinds := map[string]int{}
	for _, m := range ms {
		kinds[fmt.Sprintf("%T", m.obj)]++
	}
	for _, want := range []string{"*v1.Job", "*v1.ConfigMap", "*v1.Secret", "*v1.Service", "*kubernetes_test.kustomization", "*kubernetes_test.podMonitor"} {
		if kinds[want] == 0 {
			t.Errorf("no %s among the manifests (%v)", want, kinds)
		}
	}
}

// TestStrictDecodeRejectsTypos proves the decoding above is strict: the Job
// with one field misspelled (or a key duplicated) must not decode.
func TestStrictDecodeRejectsTypos(t *testing.T) {
	orig, err := os.ReadFile("job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeStrict(orig); err != nil {
		t.Fatalf("the unmodified job.yaml must decode: %v", err)
	}
	cases := []struct{ name, from, to, wantErr string }{
		{"misspelled spec field", "  completionMode: Indexed", "  completionsMode: Indexed", `unknown field "spec.completionsMode"`},
		{"misspelled count", "  parallelism: ", "  paralellism: ", `unknown field "spec.paralellism"`},
		{"wrong case", "                secretKeyRef:", "                secretKeyref:", `unknown field "spec.template.spec.containers[0].env[0].valueFrom.secretKeyref"`},
		{"misspelled pod field", "      restartPolicy: Never", "      restartpolicy: Never", "restartpolicy"},
		{"unknown container field", "          imagePullPolicy: IfNotPresent", "          imagePullPolicy: IfNotPresent\n          imagePullSecret: x", `unknown field "spec.template.spec.containers[0].imagePullSecret"`},
		{"duplicate key", "  backoffLimit: 0", "  backoffLimit: 0\n  backoffLimit: 1", "backoffLimit"},
		{"misspelled policy field", "          operator: NotIn", "          operater: NotIn", "operater"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !bytes.Contains(orig, []byte(c.from)) {
				t.Fatalf("job.yaml no longer contains %q; update the case", c.from)
			}
			bad := bytes.Replace(orig, []byte(c.from), []byte(c.to), 1)
			_, err := decodeStrict(bad)
			if err == nil {
				t.Fatalf("decoded job.yaml with %q -> %q without an error", c.from, c.to)
			}
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("error %q does not mention %q", err, c.wantErr)
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

func TestJobInvariants(t *testing.T) {
	ms := loadManifests(t)
	job, _ := only[*batchv1.Job](t, ms, "Job")
	checkJob(t, job, ms, 0)
}

// checkJob asserts what every shard relies on. wantN > 0 also checks N.
func checkJob(t *testing.T, job *batchv1.Job, ms []manifest, wantN int32) {
	t.Helper()
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode = %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism || *s.Completions < 1 {
		t.Fatalf("completions %v and parallelism %v must be set, equal and >= 1: every shard runs at once", s.Completions, s.Parallelism)
	}
	n := *s.Completions
	if wantN > 0 && n != wantN {
		t.Errorf("completions = %d, want %d", n, wantN)
	}
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		t.Errorf("backoffLimit = %v, want 0: a retried shard would start late and publish twice", s.BackoffLimit)
	}
	if s.ActiveDeadlineSeconds == nil || *s.ActiveDeadlineSeconds <= 0 {
		t.Errorf("activeDeadlineSeconds must bound the run")
	}
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never", pod.RestartPolicy)
	}
	checkFailurePolicy(t, s.PodFailurePolicy)

	if len(pod.Containers) != 1 || pod.Containers[0].Name != containerName {
		t.Fatalf("want one container %q, got %d", containerName, len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Args, wantArgs) {
		t.Errorf("args =\n  %q\nwant\n  %q", c.Args, wantArgs)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("env %s twice", e.Name)
		}
		env[e.Name] = e
		if strings.Contains(e.Value, "://") {
			t.Errorf("env %s has a literal URL; URLs come from the Secret", e.Name)
		}
	}
	// Every $(VAR) in args must be defined in env, or Kubernetes passes it literally.
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		for _, m := range regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).FindAllStringSubmatch(a, -1) {
			if _, ok := env[m[1]]; !ok {
				t.Errorf("%q refers to $(%s), which the container's env does not define", a, m[1])
			}
		}
	}
	if e := env["MQBENCH_SHARDS"]; e.Value != fmt.Sprint(n) {
		t.Errorf("MQBENCH_SHARDS = %q, want %d (= completions): --shards must match the Job's N", e.Value, n)
	}
	if e, ok := env["START_AT"]; !ok || e.ValueFrom != nil {
		t.Errorf("START_AT must be a plain env value (set by scripts/k8s-run.sh)")
	}
	if e := env["JOB_COMPLETION_INDEX"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
		e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("JOB_COMPLETION_INDEX must come from the completion-index annotation, got %+v", e)
	}
	u := env["MQBENCH_URL"]
	if u.Value != "" || u.ValueFrom == nil || u.ValueFrom.SecretKeyRef == nil ||
		u.ValueFrom.SecretKeyRef.Name != secretName || u.ValueFrom.SecretKeyRef.Key != secretKey {
		t.Errorf("MQBENCH_URL must come from secretKeyRef %s/%s, got %+v", secretName, secretKey, u)
	}
	if g := env["GOMAXPROCS"]; g.ValueFrom == nil || g.ValueFrom.ResourceFieldRef == nil || g.ValueFrom.ResourceFieldRef.Resource != "limits.cpu" {
		t.Errorf("GOMAXPROCS should follow limits.cpu, got %+v", g)
	}

	checkResources(t, c.Resources)

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["metrics"] != metricsPort {
		t.Errorf("container port metrics = %d, want %d (the --prometheus port)", ports["metrics"], metricsPort)
	}

	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	cfg, ok := mounts["/config"]
	if !ok || !cfg.ReadOnly {
		t.Fatalf("the scenario must be mounted read-only at /config")
	}
	if v := vols[cfg.Name]; v.ConfigMap == nil {
		t.Errorf("/config is not a ConfigMap volume")
	} else if configMapNamed(ms, v.ConfigMap.Name) == nil {
		t.Errorf("/config mounts ConfigMap %q, which no manifest defines", v.ConfigMap.Name)
	}
	if res, ok := mounts["/results"]; !ok || vols[res.Name].EmptyDir == nil {
		t.Errorf("/results must be an emptyDir (each shard's result leaves through its log)")
	}

	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil {
		t.Errorf("the pod must run as a non-root user")
	} else if uid := dockerfileUID(t); fmt.Sprint(*sc.RunAsUser) != uid {
		t.Errorf("runAsUser %d differs from the Dockerfile's USER %s", *sc.RunAsUser, uid)
	}
	if c.Image != imageName && !strings.Contains(c.Image, "/") {
		t.Errorf("image %q: the base names %q (replaced through kustomization.yaml) or a full reference", c.Image, imageName)
	}
}

func checkFailurePolicy(t *testing.T, p *batchv1.PodFailurePolicy) {
	t.Helper()
	if p == nil {
		t.Fatal("podFailurePolicy missing")
	}
	var exitRule, disruptionRule bool
	for _, r := range p.Rules {
		if r.Action != batchv1.PodFailurePolicyActionFailJob {
			continue
		}
		if e := r.OnExitCodes; e != nil && e.Operator == batchv1.PodFailurePolicyOnExitCodesOpNotIn &&
			slices.Equal(e.Values, []int32{0}) && e.ContainerName != nil && *e.ContainerName == containerName {
			exitRule = true
		}
		for _, c := range r.OnPodConditions {
			if c.Type == corev1.DisruptionTarget {
				disruptionRule = true
			}
		}
	}
	if !exitRule || !disruptionRule {
		t.Errorf("podFailurePolicy must FailJob on a non-zero exit of %s (%v) and on DisruptionTarget (%v)", containerName, exitRule, disruptionRule)
	}
}

func checkResources(t *testing.T, r corev1.ResourceRequirements) {
	t.Helper()
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := r.Requests[name]
		lim, okLim := r.Limits[name]
		if !okReq || !okLim {
			t.Errorf("%s: requests and limits must both be set", name)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: request %s above limit %s", name, req.String(), lim.String())
		}
	}
	req, lim := r.Requests[corev1.ResourceCPU], r.Limits[corev1.ResourceCPU]
	if req.Cmp(lim) != 0 {
		t.Errorf("cpu request %s != limit %s: mqbench's client-bound warning counts the cores it may use", req.String(), lim.String())
	}
	if lim.MilliValue()%1000 != 0 || lim.MilliValue() < 1000 {
		t.Errorf("cpu limit %s is not whole cores", lim.String())
	}
}

var dockerUser = regexp.MustCompile(`(?m)^USER\s+(\d+)(?::\d+)?\s*$`)

func dockerfileUID(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := dockerUser.FindSubmatch(data)
	if m == nil {
		t.Fatal("the Dockerfile has no numeric USER line")
	}
	return string(m[1])
}

func TestScenarioConfigMapIsAValidScenario(t *testing.T) {
	ms := loadManifests(t)
	cm := configMapNamed(ms, configMapName)
	if cm == nil {
		t.Fatalf("no ConfigMap %s", configMapName)
	}
	checkScenarioConfigMap(t, cm)
}

func checkScenarioConfigMap(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	text, ok := cm.Data["scenario.yaml"]
	if !ok || len(cm.Data) != 1 {
		t.Fatalf("ConfigMap %s must hold exactly scenario.yaml, has %d keys", cm.Name, len(cm.Data))
	}
	file := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// A sentinel URL stands for the one the Secret provides: the file must
	// not replace it (a url: in a ConfigMap would also be a password there).
	base := scenario.Default()
	base.URL = "amqp://from-the-secret/"
	sc, src, err := scenario.Load(file, base)
	if err != nil {
		t.Fatalf("the scenario does not load: %v", err)
	}
	if sc.URL != base.URL {
		t.Errorf("the scenario sets url: %s; the broker URL must come from the Secret", scenario.MaskURL(sc.URL))
	}
	// Validated as a shard of the Job would validate it: sharded runs
	// refuse server-named and exclusive queues.
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sc.Shard, sc.StartAt = &scenario.Shard{Index: 1, Count: 3}, &at
	sc.Normalize()
	if probs := sc.Validate(); probs != nil {
		t.Fatalf("the scenario is invalid as a shard:\n%s", probs.Explain(src, nil))
	}
}

func TestServiceSelectsTheShards(t *testing.T) {
	ms := loadManifests(t)
	job, _ := only[*batchv1.Job](t, ms, "Job")
	svc, _ := only[*corev1.Service](t, ms, "Service")
	labels := job.Spec.Template.Labels
	if len(svc.Spec.Selector) == 0 {
		t.Fatal("the Service selects nothing")
	}
	for k, v := range svc.Spec.Selector {
		if labels[k] != v {
			t.Errorf("Service selector %s=%s does not match the pod template's labels %v", k, v, labels)
		}
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("the metrics Service should be headless (clusterIP: None)")
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != metricsPort || svc.Spec.Ports[0].TargetPort.StrVal != "metrics" {
		t.Errorf("Service ports = %+v, want %d -> metrics", svc.Spec.Ports, metricsPort)
	}
	pm, _ := only[*podMonitor](t, ms, "PodMonitor")
	for k, v := range pm.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("PodMonitor selector %s=%s does not match the pod template", k, v)
		}
	}
	if len(pm.Spec.PodMetricsEndpoints) == 0 || pm.Spec.PodMetricsEndpoints[0].Port != "metrics" {
		t.Errorf("the PodMonitor must scrape the metrics port")
	}
}

// urlWithPassword finds amqp(s)://user:password@ anywhere.
var urlWithPassword = regexp.MustCompile(`amqps?://[^\s:/@]+:([^\s@/]+)@`)

func TestNoPasswordOutsideTheSecretTemplate(t *testing.T) {
	var found bool
	for _, f := range manifestFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range urlWithPassword.FindAllSubmatch(data, -1) {
			if f == "secret.example.yaml" && string(m[1]) == "change-me" {
				found = true
				continue
			}
			t.Errorf("%s contains a URL with a password: %s", f, m[0])
		}
	}
	if !found {
		t.Error("secret.example.yaml should show the URL's form with the placeholder password change-me")
	}
	ms := loadManifests(t)
	sec, m := only[*corev1.Secret](t, ms, "Secret")
	if m.file != "secret.example.yaml" || sec.Name != secretName {
		t.Errorf("the only Secret should be the template %s in secret.example.yaml", secretName)
	}
	if _, ok := sec.StringData[secretKey]; !ok {
		t.Errorf("the Secret template has no %q", secretKey)
	}
	for _, mm := range ms {
		if cm, ok := mm.obj.(*corev1.ConfigMap); ok {
			for k, v := range cm.Data {
				if strings.Contains(v, "://") && urlWithPassword.MatchString(v) {
					t.Errorf("ConfigMap %s key %s holds a URL with a password", cm.Name, k)
				}
			}
		}
	}
}

func TestKustomizationListsTheManifests(t *testing.T) {
	ms := loadManifests(t)
	k, _ := only[*kustomization](t, ms, "Kustomization")
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" {
		t.Errorf("kustomization apiVersion %q", k.APIVersion)
	}
	listed := map[string]bool{}
	for _, r := range k.Resources {
		listed[r] = true
		if _, err := os.Stat(r); err != nil {
			t.Errorf("kustomization lists %s: %v", r, err)
		}
	}
	for _, f := range manifestFiles(t) {
		if f == "kustomization.yaml" {
			continue
		}
		why, left := notKustomized[f]
		switch {
		case left && listed[f]:
			t.Errorf("%s must not be in kustomization.yaml: %s", f, why)
		case !left && !listed[f]:
			t.Errorf("%s is not in kustomization.yaml", f)
		}
	}
	var img bool
	for _, i := range k.Images {
		if i.Name == imageName {
			img = true
			if !strings.Contains(i.NewName, ".invalid/") {
				t.Errorf("the image placeholder %q must be unmistakably unset (a reserved .invalid registry), never a real default", i.NewName)
			}
		}
	}
	if !img {
		t.Errorf("kustomization.yaml has no images: entry for %q", imageName)
	}
}

// --- the Job's wrapper script and scripts/k8s-run.sh --------------------------

// expand applies Kubernetes' $(VAR) expansion (defined vars only; $$ escapes).
func expand(s string, env map[string]string) string {
	re := regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// fakeMQBench stands in for /mqbench: it writes a result to --out, prints a
// table to stdout and a line to stderr, and exits as FAKE_MODE says.
const fakeMQBench = `#!/bin/sh
out=""; prev=""
for a in "$@"; do [ "$prev" = --out ] && out="$a"; prev="$a"; done
echo "args: $*" >"$FAKE_DIR/args"
echo "summary table on stdout"
echo "a warning on stderr" >&2
case "$FAKE_MODE" in
  ok) printf '{"schema":"mqbench.result/v1","shard":"%s"}\n' "$JOB_COMPLETION_INDEX" >"$out"; exit 0 ;;
  fail) printf '{"schema":"mqbench.result/v1","stop_reason":"error"}\n' >"$out"; exit 1 ;;
  noresult) exit 1 ;;
  term)
    trap 'printf "{\"schema\":\"mqbench.result/v1\",\"stop_reason\":\"interrupted\"}\n" >"$out"; exit 143' TERM
    touch "$FAKE_DIR/ready"
    while :; do sleep 0.05; done ;;
esac
`

func TestJobWrapperPrintsTheResultForK8sRun(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	// The image's /bin/sh is BusyBox ash (Alpine): run the wrapper with it
	// when this machine has BusyBox, and with the system's sh.
	shells := [][]string{}
	if sh, err := exec.LookPath("sh"); err == nil {
		shells = append(shells, []string{sh})
	}
	if bb, err := exec.LookPath("busybox"); err == nil {
		shells = append(shells, []string{bb, "sh"})
	}
	if len(shells) == 0 {
		t.Skip("no sh")
	}
	ms := loadManifests(t)
	job, _ := only[*batchv1.Job](t, ms, "Job")
	c := job.Spec.Template.Spec.Containers[0]
	if len(c.Command) != 4 || c.Command[0] != "/bin/sh" || c.Command[1] != "-c" {
		t.Fatalf("command = %q, want /bin/sh -c SCRIPT NAME", c.Command)
	}
	for _, shell := range shells {
		for _, mode := range []string{"ok", "fail", "noresult", "term", "nostart"} {
			t.Run(filepath.Base(strings.Join(shell, " "))+"/"+mode, func(t *testing.T) {
				runWrapper(t, shell, c, mode)
			})
		}
	}
}

// runWrapper runs the Job's wrapper script with shell, as the pod would
// (args expanded as Kubernetes does, mqbench a fake), in one FAKE_MODE.
func runWrapper(t *testing.T, shell []string, c corev1.Container, mode string) {
	script := c.Command[2]
	dir := t.TempDir()
	fake := filepath.Join(dir, "mqbench")
	if err := os.WriteFile(fake, []byte(fakeMQBench), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MQBENCH_SHARDS": "3", "START_AT": "2026-11-26T10:16:00Z", "JOB_COMPLETION_INDEX": "1"}
	if mode == "nostart" {
		env["START_AT"] = ""
	}
	var args []string
	for _, a := range c.Args {
		a = expand(a, env)
		if strings.HasPrefix(a, "/results/") { // the pod's emptyDir, here a temp dir
			a = filepath.Join(dir, strings.TrimPrefix(a, "/results/"))
		}
		args = append(args, a)
	}
	cmd := exec.Command(shell[0], append(append(shell[1:], "-c", script, c.Command[3]), args...)...)
	cmd.Env = append(os.Environ(), "MQBENCH_BIN="+fake, "FAKE_DIR="+dir, "FAKE_MODE="+mode)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log // as kubectl logs shows them: mixed
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if mode == "term" {
		waitForFile(t, filepath.Join(dir, "ready"))
		_ = cmd.Process.Signal(os.Interrupt) // the wrapper forwards INT and TERM as TERM
	}
	err := cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ok": 0, "fail": 1, "noresult": 1, "term": 143, "nostart": 2}[mode]
	if code != want {
		t.Fatalf("exit code %d, want %d; log:\n%s", code, want, log.String())
	}
	if mode == "nostart" {
		if !strings.Contains(log.String(), "START_AT is not set") {
			t.Errorf("no explanation:\n%s", log.String())
		}
		return
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "args")); !strings.Contains(string(got), "--shards 3 --start-at 2026-11-26T10:16:00Z --out "+filepath.Join(dir, "shard-1.json")) {
		t.Errorf("mqbench got %s", got)
	}
	// scripts/k8s-run.sh's extract_result must cut exactly the result out.
	ex := exec.Command("bash", "-c", `source scripts/k8s-run.sh && extract_result "$1"`, "test", "1")
	ex.Dir = "../.."
	ex.Stdin = bytes.NewReader(log.Bytes())
	out, err := ex.Output()
	if mode == "noresult" {
		if err == nil {
			t.Errorf("extract_result found a result in a log without one:\n%s", log.String())
		}
		return
	}
	if err != nil {
		t.Fatalf("extract_result: %v; log:\n%s", err, log.String())
	}
	file, _ := os.ReadFile(filepath.Join(dir, "shard-1.json"))
	if strings.TrimSpace(string(out)) != strings.TrimSpace(string(file)) {
		t.Errorf("extracted %q, the file holds %q", out, file)
	}
	// Another shard's markers do not match.
	ex = exec.Command("bash", "-c", `source scripts/k8s-run.sh && extract_result 2`)
	ex.Dir = "../.."
	ex.Stdin = bytes.NewReader(log.Bytes())
	if err := ex.Run(); err == nil {
		t.Errorf("extract_result 2 accepted shard 1's result")
	}
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

// TestKustomizeRenders renders the base and the overlay scripts/k8s-run.sh
// writes with the real kustomize (kubectl kustomize, offline), and checks the
// result strictly, as the cluster would get it. Skipped without kubectl.
func TestKustomizeRenders(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed; the overlay is not rendered")
	}
	t.Run("base", func(t *testing.T) {
		out, err := exec.Command(kubectl, "kustomize", ".").Output()
		if err != nil {
			t.Fatalf("kubectl kustomize: %v", stderrOf(err))
		}
		ms := decodeAll(t, "kustomize(.)", out)
		job, _ := only[*batchv1.Job](t, ms, "Job")
		if img := job.Spec.Template.Spec.Containers[0].Image; img != "registry.example.invalid/mqbench:set-me" {
			t.Errorf("base image = %q", img)
		}
		checkJob(t, job, ms, 3)
	})
	t.Run("k8s-run overlay", func(t *testing.T) {
		if err := os.MkdirAll("../../results", 0o755); err != nil {
			t.Fatal(err)
		}
		run, err := os.MkdirTemp("../../results", "k8s-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(run) })
		dir := filepath.Join(run, "kustomize")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		scen, err := os.ReadFile("../../bench/scenarios/work-queue.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), scen, 0o644); err != nil {
			t.Fatal(err)
		}
		const job = "mqbench-20261126-101500-a1b2"
		rel, _ := filepath.Rel("../..", dir)
		sh := exec.Command("bash", "-c", `source scripts/k8s-run.sh && render_overlay "$@"`, "test",
			rel, job, "5", "2026-11-26T10:16:00Z", "registry.example.com:5000/team/mqbench:v1.2", "3700", "bench", "1")
		sh.Dir = "../.."
		if out, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("render_overlay: %v\n%s", err, out)
		}
		out, err := exec.Command(kubectl, "kustomize", dir).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize: %v", stderrOf(err))
		}
		ms := decodeAll(t, "kustomize(overlay)", out)
		j, _ := only[*batchv1.Job](t, ms, "Job")
		checkJob(t, j, ms, 5)
		if j.Name != job || j.Namespace != "bench" {
			t.Errorf("Job %s/%s, want bench/%s", j.Namespace, j.Name, job)
		}
		if *j.Spec.ActiveDeadlineSeconds != 3700 {
			t.Errorf("activeDeadlineSeconds = %d", *j.Spec.ActiveDeadlineSeconds)
		}
		c := j.Spec.Template.Spec.Containers[0]
		if c.Image != "registry.example.com:5000/team/mqbench:v1.2" {
			t.Errorf("image = %q", c.Image)
		}
		for _, e := range c.Env {
			if e.Name == "START_AT" && e.Value != "2026-11-26T10:16:00Z" {
				t.Errorf("START_AT = %q", e.Value)
			}
		}
		if j.Spec.Selector != nil {
			t.Errorf("the overlay's labels must not set the Job's selector (the API generates it)")
		}
		cmName := j.Spec.Template.Spec.Volumes[0].ConfigMap.Name
		cm := configMapNamed(ms, cmName)
		if cm == nil {
			t.Fatalf("the Job mounts ConfigMap %s, which the overlay does not define", cmName)
		}
		if cm.Data["scenario.yaml"] != string(scen) {
			t.Errorf("the overlay's ConfigMap does not hold the given scenario")
		}
		checkScenarioConfigMap(t, cm)
		svc, _ := only[*corev1.Service](t, ms, "Service")
		if svc.Spec.Selector["mqbench.io/run"] != job || j.Spec.Template.Labels["mqbench.io/run"] != job {
			t.Errorf("the Service must select this run's pods only: %v", svc.Spec.Selector)
		}
		for _, m := range ms {
			if _, ok := m.obj.(*corev1.Secret); ok {
				t.Errorf("the overlay must not carry a Secret")
			}
		}
	})
}

func stderrOf(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("%w: %s", err, ee.Stderr)
	}
	return err
}
