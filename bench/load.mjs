// A bounded load loop: N tasks over C concurrent workers; latency percentiles and rate.
export async function load({ n, c, task, label }) {
  const lat = [];
  let errors = 0;
  let next = 0;
  let firstError;
  async function worker() {
    while (next < n) {
      const i = next++;
      const t = performance.now();
      try {
        await task(i);
      } catch (err) {
        errors++;
        firstError ??= String(err?.message ?? err).slice(0, 300);
      }
      lat.push(performance.now() - t);
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, worker));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const p = (q) => +lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(2);
  return { label, requests: n, concurrency: c, errors, rps: +(n / secs).toFixed(1), p50_ms: p(0.5), p95_ms: p(0.95), p99_ms: p(0.99), ...(firstError ? { first_error: firstError } : {}) };
}
