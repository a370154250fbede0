package difftest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Generate makes traces from seed: resources with and without service.name, traces of 1 to 12
// spans, attributes of every value type (string, int, double, bool, bytes, array, map, empty)
// under keys that are sometimes missing, health checks, errors (with identifiers in their
// messages), slow and sub-millisecond spans, span events, and tracestates of every shape the
// samplers read (none, other vendors, `ot=th`, `ot=rv`, both, malformed).
func Generate(seed uint64, traces int) ptrace.Traces {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	td := ptrace.NewTraces()
	services := []string{"checkout", "patient-api", "billing", ""}
	resources := make([]ptrace.ScopeSpans, len(services))
	for i, service := range services {
		rs := td.ResourceSpans().AppendEmpty()
		if service != "" {
			rs.Resource().Attributes().PutStr("service.name", service)
		}
		rs.Resource().Attributes().PutStr("deployment.environment", []string{"dev", "stage", "prod", "dev"}[i])
		if i == 1 {
			rs.Resource().Attributes().PutStr("patient.id", "P-0042-resource")
			rs.Resource().Attributes().PutInt("host.cpu", 8)
		}
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName([]string{"io.opentelemetry.http", "nestjs", "grpc", "db"}[i])
		ss.Scope().SetVersion("1.2.3")
		resources[i] = ss
	}
	names := []string{"GET /health", "GET /patients/{id}", "Health/Check", "db.query", "POST /login", "", "GET /cart", "grpc.health.v1.Health/Check"}
	states := []string{"", "", "", "vendor=x", "ot=th:8", "ot=th:c", "ot=rv:abcdef12345678", "ot=th:4;rv:0123456789abcd", "a=b,ot=th:0", "ot=th:zz", "ot=th:1;foo:bar", "ot=rv:ffffffffffffff;th:f"}
	var base uint64 = 1_700_000_000_000_000_000
	for t := 0; t < traces; t++ {
		var tid [16]byte
		binary.BigEndian.PutUint64(tid[:8], r.Uint64())
		binary.BigEndian.PutUint64(tid[8:], r.Uint64())
		if t%97 == 0 {
			tid = [16]byte{} // a trace id of zeros: no randomness to sample by
			tid[15] = byte(t % 2)
		}
		state := states[r.IntN(len(states))]
		spans := 1 + r.IntN(12)
		resource := resources[r.IntN(len(resources))]
		start := base + uint64(t)*1_000_000_000
		for s := 0; s < spans; s++ {
			span := resource.Spans().AppendEmpty()
			span.SetTraceID(pcommon.TraceID(tid))
			var sid [8]byte
			binary.BigEndian.PutUint64(sid[:], r.Uint64()|1)
			span.SetSpanID(pcommon.SpanID(sid))
			if s > 0 {
				var parent [8]byte
				binary.BigEndian.PutUint64(parent[:], r.Uint64()|1)
				span.SetParentSpanID(pcommon.SpanID(parent))
			}
			span.SetName(names[r.IntN(len(names))])
			span.SetKind(ptrace.SpanKind(r.IntN(6)))
			span.TraceState().FromRaw(state)
			durations := []uint64{200_000, 900_000, 1_000_000, 5_000_000, 150_000_000, 2_500_000_000}
			begin := start + uint64(r.IntN(1_000_000))
			span.SetStartTimestamp(pcommon.Timestamp(begin))
			span.SetEndTimestamp(pcommon.Timestamp(begin + durations[r.IntN(len(durations))]))
			switch r.IntN(20) {
			case 0:
				span.Status().SetCode(ptrace.StatusCodeError)
				span.Status().SetMessage("lookup failed for jane.doe@example.com, patient P-1234")
			case 1, 2:
				span.Status().SetCode(ptrace.StatusCodeOk)
			}
			attributes(r, span.Attributes(), s)
			if r.IntN(4) == 0 {
				event := span.Events().AppendEmpty()
				event.SetName([]string{"exception", "retry", "cache.miss"}[r.IntN(3)])
				event.SetTimestamp(pcommon.Timestamp(begin + 10))
				event.Attributes().PutStr("exception.message", fmt.Sprintf("no record for user %d (mail u%d@example.org)", r.IntN(1000), r.IntN(1000)))
				if r.IntN(2) == 0 {
					event.Attributes().PutInt("attempt", int64(r.IntN(5)))
				}
			}
		}
	}
	return td
}

// attributes puts a random selection of the keys the platform's rules look at, each with a
// value of a type chosen at random half of the time.
func attributes(r *rand.Rand, m pcommon.Map, index int) {
	pick := func(n int) bool { return r.IntN(n) == 0 }
	routes := []string{"/health", "/patients/{id}", "/cart", "/login", "/healthz"}
	if !pick(4) {
		m.PutStr("http.route", routes[r.IntN(len(routes))])
	}
	if pick(3) {
		m.PutStr("grpc.method", []string{"Health/Check", "Patients/Get", "Cart/Add"}[r.IntN(3)])
	}
	if !pick(3) {
		m.PutStr("url.full", fmt.Sprintf("https://api.example.com/patients/%d?patient_id=P-%04d&email=u%d@example.org&page=%d", r.IntN(100000), r.IntN(10000), r.IntN(100), r.IntN(5)))
	}
	if pick(2) {
		m.PutStr("http.request.method", []string{"GET", "POST", "DELETE"}[r.IntN(3)])
	}
	if pick(2) {
		m.PutInt("http.response.status_code", []int64{200, 201, 404, 500, 503}[r.IntN(5)])
	}
	value(r, m, "user.id", fmt.Sprintf("user-%d", r.IntN(500)))
	value(r, m, "patient.id", fmt.Sprintf("P-%04d", r.IntN(10000)))
	value(r, m, "enduser.email", fmt.Sprintf("person%d@example.com", r.IntN(300)))
	value(r, m, "password", "hunter2")
	value(r, m, "tenant.id", []string{"acme", "globex", "initech"}[r.IntN(3)])
	value(r, m, "retry.count", "3")
	value(r, m, "ratio", "0.25")
	value(r, m, "cache.hit", "true")
	if pick(5) {
		m.PutStr("http.request.body", `{"email":"a@b.co"}`)
	}
	if pick(6) {
		m.PutStr("db.statement", fmt.Sprintf("SELECT * FROM patients WHERE id = 'P-%04d'", r.IntN(10000)))
	}
	if pick(8) {
		p := []func(){
			func() { m.PutInt("sampling.priority", 0) },
			func() { m.PutInt("sampling.priority", 1) },
			func() { m.PutDouble("sampling.priority", 2.5) },
			func() { m.PutStr("sampling.priority", "1") },
			func() { m.PutStr("sampling.priority", "zero") },
		}
		p[r.IntN(len(p))]()
	}
	m.PutInt("span.index", int64(index))
}

// value puts key as a string (text), or, a third of the time, as a value of another type (or
// leaves it out).
func value(r *rand.Rand, m pcommon.Map, key, text string) {
	switch r.IntN(18) {
	case 0, 1, 2, 3, 4, 5, 6, 7:
		m.PutStr(key, text)
	case 8:
		m.PutInt(key, int64(r.IntN(100000))-50000)
	case 9:
		m.PutDouble(key, float64(r.IntN(100000))/7.0)
	case 10:
		m.PutBool(key, r.IntN(2) == 0)
	case 11:
		m.PutEmptyBytes(key).FromRaw([]byte(text))
	case 12:
		s := m.PutEmptySlice(key)
		s.AppendEmpty().SetStr(text)
		s.AppendEmpty().SetInt(7)
	case 13:
		mm := m.PutEmptyMap(key)
		mm.PutStr("inner", text)
		mm.PutBool("flag", true)
	case 14:
		m.PutEmpty(key)
	case 15:
		m.PutStr(key, "")
	default:
		// missing
	}
}
