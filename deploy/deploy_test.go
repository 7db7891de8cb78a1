package deploy

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"ringback/config"
	"ringback/handlers"
	"ringback/store"
)

// probePaths gathers every path a deployment probes, to ask the real
// server for each.
type probePaths map[string]string // path → where it is probed

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// port is the port of an address such as ":8080".
func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return p
}

// requiredSecrets are what serve needs from the environment for Slack and
// Twilio in production.
var requiredSecrets = []string{"DATABASE_URL", "PUBLIC_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "RINGBACK_WEBHOOK_SECRET"}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) != 2 || !strings.HasPrefix(froms[0][1], "golang:") || !strings.HasPrefix(froms[1][1], "gcr.io/distroless/static") {
		t.Errorf("want a golang build stage and a distroless/static final stage, got %v", froms)
	}
	final := df[strings.LastIndex(df, "\nFROM "):]
	for _, want := range []string{
		"RUN VERSION=$VERSION COMMIT=$COMMIT BUILD_TIME=$BUILD_TIME deploy/build.sh /out/ringback",
		"\nUSER 65532:65532\n",
		"\nEXPOSE 8080\n",
		`CMD ["ringback", "probe", "/readyz"]`,
		`ENTRYPOINT ["ringback"]`,
		"RINGBACK_ADDR=:8080",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Contains(final, "\nRUN ") {
		t.Error("the final stage runs commands: distroless has no shell")
	}
	build, err := os.ReadFile("build.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(build), "CGO_ENABLED=0 exec go build -trimpath") {
		t.Error("deploy/build.sh does not build statically")
	}
}

type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		EnvFile     []string          `yaml:"env_file"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

func TestCompose(t *testing.T) {
	var c compose
	readYAML(t, "compose.yaml", &c)
	pg, ok := c.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:") || len(pg.Healthcheck.Test) == 0 || !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
		t.Errorf("postgres service: %+v", pg)
	}
	rb, ok := c.Services["ringback"]
	if !ok {
		t.Fatal("no ringback service")
	}
	if rb.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("ringback starts before postgres is healthy: %+v", rb.DependsOn)
	}
	if got := rb.Healthcheck.Test; !slices.Equal(got, []string{"CMD", "ringback", "probe", "/readyz"}) {
		t.Errorf("ringback healthcheck %v", got)
	}
	if !slices.Equal(rb.Command, []string{"serve"}) {
		t.Errorf("ringback command %v", rb.Command)
	}
	p := port(t, rb.Environment["RINGBACK_ADDR"])
	if len(rb.Ports) != 1 || !strings.HasSuffix(rb.Ports[0], ":"+p) {
		t.Errorf("ports %v do not publish RINGBACK_ADDR's port %s", rb.Ports, p)
	}
	if !strings.Contains(rb.Environment["DATABASE_URL"], "@postgres:5432/") {
		t.Errorf("DATABASE_URL %q does not name the postgres service", rb.Environment["DATABASE_URL"])
	}
	if !slices.ContainsFunc(rb.Volumes, func(v string) bool { return strings.Contains(v, ":"+rb.Environment["RINGBACK_CONFIG"]+":") }) {
		t.Errorf("RINGBACK_CONFIG %s is not mounted: %v", rb.Environment["RINGBACK_CONFIG"], rb.Volumes)
	}
	if !slices.ContainsFunc(rb.Volumes, func(v string) bool {
		return strings.HasPrefix(rb.Environment["RINGBACK_SPOOL_DIR"], strings.Split(v, ":")[1])
	}) {
		t.Errorf("RINGBACK_SPOOL_DIR %s is on no volume: %v", rb.Environment["RINGBACK_SPOOL_DIR"], rb.Volumes)
	}
	checkEnvExample(t, "ringback.env.example", rb.Environment)
}

// checkEnvExample: the example env file names every secret serve needs,
// and with them (and the service's own settings) the environment has no
// problem.
func checkEnvExample(t *testing.T, file string, settings map[string]string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars[k] = v
		}
	}
	for k, v := range settings {
		// compose fills ${VAR} from its own environment.
		vars[k] = os.Expand(v, func(string) string { return "secret" })
	}
	for _, k := range requiredSecrets {
		if vars[k] == "" {
			t.Errorf("%s (with the service's settings) lacks %s", file, k)
		}
	}
	if ps := config.EnvFrom(func(k string) string { return vars[k] }).Problems(); len(ps) > 0 {
		t.Errorf("%s: %v", file, ps)
	}
}

type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas     int `yaml:"replicas"`
		MinAvailable int `yaml:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Ports []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Args  []string `yaml:"args"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					Env []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					EnvFrom []struct {
						SecretRef struct {
							Name string `yaml:"name"`
						} `yaml:"secretRef"`
					} `yaml:"envFrom"`
					ReadinessProbe probe `yaml:"readinessProbe"`
					LivenessProbe  probe `yaml:"livenessProbe"`
					VolumeMounts   []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

func TestKubernetes(t *testing.T) {
	dir := "kubernetes"
	var kust struct {
		Resources          []string `yaml:"resources"`
		ConfigMapGenerator []struct {
			Name  string   `yaml:"name"`
			Files []string `yaml:"files"`
		} `yaml:"configMapGenerator"`
	}
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &kust)
	objs := map[string]k8sObject{}
	for _, r := range kust.Resources {
		var o k8sObject
		readYAML(t, filepath.Join(dir, r), &o)
		objs[o.Kind] = o
	}
	// Service's selector is spec.selector, a plain map.
	var svc struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
		} `yaml:"spec"`
	}
	readYAML(t, filepath.Join(dir, "service.yaml"), &svc)

	dep, pdb, service, secret := objs["Deployment"], objs["PodDisruptionBudget"], objs["Service"], objs["Secret"]
	if dep.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", dep.Spec.Replicas)
	}
	podLabels := dep.Spec.Template.Metadata.Labels
	if !subset(dep.Spec.Selector.MatchLabels, podLabels) || !subset(svc.Spec.Selector, podLabels) || !subset(pdb.Spec.Selector.MatchLabels, podLabels) || len(svc.Spec.Selector) == 0 {
		t.Errorf("selectors do not match the pods' labels %v", podLabels)
	}
	if pdb.Spec.MinAvailable != 1 {
		t.Errorf("PodDisruptionBudget minAvailable %d", pdb.Spec.MinAvailable)
	}
	if len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatal("want one container")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if !slices.Equal(c.Args, []string{"serve"}) || len(c.Ports) != 1 || len(service.Spec.Ports) != 1 {
		t.Fatalf("container args %v ports %v, service ports %v", c.Args, c.Ports, service.Spec.Ports)
	}
	if p := port(t, env["RINGBACK_ADDR"]); p != itoa(c.Ports[0].ContainerPort) {
		t.Errorf("containerPort %d is not RINGBACK_ADDR's %s", c.Ports[0].ContainerPort, p)
	}
	portName := c.Ports[0].Name
	if service.Spec.Ports[0].TargetPort != portName || c.ReadinessProbe.HTTPGet.Port != portName || c.LivenessProbe.HTTPGet.Port != portName {
		t.Errorf("the Service and probes do not target the container port %q", portName)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("readiness %s, liveness %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}

	// The config: a generated ConfigMap, mounted where RINGBACK_CONFIG looks.
	if len(kust.ConfigMapGenerator) != 1 || len(kust.ConfigMapGenerator[0].Files) != 1 {
		t.Fatalf("configMapGenerator %+v", kust.ConfigMapGenerator)
	}
	gen := kust.ConfigMapGenerator[0]
	cfgPath := env["RINGBACK_CONFIG"]
	if gen.Files[0] != path.Base(cfgPath) {
		t.Errorf("the ConfigMap's key %s is not RINGBACK_CONFIG's file %s", gen.Files[0], cfgPath)
	}
	mounted := false
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == gen.Name {
			for _, m := range c.VolumeMounts {
				mounted = mounted || (m.Name == v.Name && m.MountPath == path.Dir(cfgPath))
			}
		}
	}
	if !mounted {
		t.Errorf("ConfigMap %s is not mounted at %s", gen.Name, path.Dir(cfgPath))
	}
	if _, err := config.Load(filepath.Join(dir, gen.Files[0])); err != nil {
		t.Errorf("the ConfigMap's %s: %v", gen.Files[0], err)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	}) bool {
		return strings.HasPrefix(env["RINGBACK_SPOOL_DIR"], m.MountPath)
	}) {
		t.Errorf("RINGBACK_SPOOL_DIR %s is on no volume (the root filesystem is read-only)", env["RINGBACK_SPOOL_DIR"])
	}

	// The secrets: a Secret the container takes its environment from.
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != secret.Metadata.Name {
		t.Errorf("envFrom %+v does not name the Secret %q", c.EnvFrom, secret.Metadata.Name)
	}
	vars := map[string]string{}
	for k, v := range secret.StringData {
		vars[k] = v
	}
	for k, v := range env {
		vars[k] = v
	}
	for _, k := range requiredSecrets {
		if vars[k] == "" {
			t.Errorf("the Secret lacks %s", k)
		}
	}
	if ps := config.EnvFrom(func(k string) string { return vars[k] }).Problems(); len(ps) > 0 {
		t.Errorf("the Secret's environment: %v", ps)
	}
}

// Every path the packaging probes is served by the real server: 200 once
// the store answers and is migrated.
func TestProbedPathsAreServed(t *testing.T) {
	paths := probePaths{"/readyz": "Dockerfile, compose.yaml, k8s readiness", "/healthz": "k8s liveness"}
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ringback.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(handlers.New(handlers.Deps{Store: s, Log: discardLog()}))
	defer srv.Close()
	get := func(p string) int {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before migrating: %d, want 503", code)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for p, where := range paths {
		if code := get(p); code != http.StatusOK {
			t.Errorf("%s (probed by %s): %d", p, where, code)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
