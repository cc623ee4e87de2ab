/**
 * Node flags a sidecar process starts with: whatever launches sidecars (`trellis up`, the ingress gateway,
 * the bench) puts them before the script, `node --single-threaded-gc --v8-pool-size=1 bin/trellis.js proxy`.
 * They can't be set from inside: V8 reads them as it builds its heap and platform (set later,
 * --single-threaded-gc crashes the first full GC).
 *
 * --single-threaded-gc: a sidecar's young generation is 1 MB with a few KB surviving each scavenge, too
 * little work to split across threads; and a sidecar shares its cores with its app, so the main thread
 * ends up waiting for GC helper threads the scheduler has not run yet. Two sidecars and their app on one
 * core at 1000 req/s: scavenge pauses p50 0.74 -> 0.27 ms, p90 1.4 -> 0.38 ms.
 *
 * --v8-pool-size=1: with GC on the main thread, V8's background pool only compiles hot functions; one
 * thread does that for a process that uses one core. Each idle pool thread still holds a stack and a malloc
 * arena: 1 thread instead of 4 is 2.3-2.5 MB less RSS at 1000 req/s (78.6-78.8 -> 76.3-76.6 MB, measured).
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--v8-pool-size=1'];
