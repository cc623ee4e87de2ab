// The headers Bookinfo's apps copy from the request they serve onto the requests they make, so the mesh can
// stitch one trace across hops (Istio's list: https://istio.io/latest/docs/tasks/observability/distributed-tracing/overview/)
// and route on who the user is (`end-user`).

/** Trace context of every tracer Istio supports: request id, W3C, B3 (single and multi), Lightstep, Datadog, … */
export const TRACE_HEADERS = Object.freeze([
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
]);

/** The named request headers that are present, as a plain object for an outgoing request. */
export function pickHeaders(incoming, names, out = {}) {
  for (const name of names) {
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
