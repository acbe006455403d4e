// Introspection (RFC 7662) throughput: one JWT access token introspected N times, C at a time.
//   INTROSPECT_URL=… CLIENT_ID=… CLIENT_SECRET=… TOKEN=… N=3000 C=20 node introspect-bench.mjs
import { load } from './load.mjs';

const url = process.env.INTROSPECT_URL;
const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(process.env.CLIENT_ID)}:${encodeURIComponent(process.env.CLIENT_SECRET)}`).toString('base64');
const body = new URLSearchParams({ token: process.env.TOKEN, token_type_hint: 'access_token' }).toString();

const result = await load({
  label: 'introspection',
  n: Number(process.env.N || 3000),
  c: Number(process.env.C || 20),
  task: async () => {
    const r = await fetch(url, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const j = await r.json();
    if (r.status !== 200 || j.active !== true) throw new Error(`status ${r.status} ${JSON.stringify(j)}`);
  },
});
console.log(JSON.stringify(result));
