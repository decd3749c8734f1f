/**
 * The memory settings the image runs the service with (Dockerfile `ENV`), so the benchmarks
 * measure the service as shipped (test/container checks the two agree). Live data under load is
 * about 25-35 MB; the rest of the resident set is V8's free pages, the node binary and malloc's.
 *
 * - `--max-old-space-size=128`: V8 sizes its heap from the old-generation limit; 128 MB keeps it
 *   from growing far past the live data.
 * - `--max-semi-space-size=4`: the young generation's two halves are resident once used: 4 MB
 *   each instead of 16 saves ~25 MB after a minute of load, for ~10 % more CPU per payment in
 *   scavenges (measured with `npm run bench`: 164 against 127 MB, 370 against 414 µs).
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates (libuv's pool, V8's helpers) an
 *   arena of its own, which keeps its freed pages; two arenas save ~10 MB at no measured cost.
 *
 * Raise them through the environment for very high concurrency.
 */
export const PRODUCTION_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=4';
export const PRODUCTION_MALLOC_ARENA_MAX = '2';

/** The run stage's environment, as far as it shapes performance. */
export const PRODUCTION_ENV = { NODE_ENV: 'production', NODE_OPTIONS: PRODUCTION_NODE_OPTIONS, MALLOC_ARENA_MAX: PRODUCTION_MALLOC_ARENA_MAX } as const;
