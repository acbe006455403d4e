// A tiny scripted browser for the hub's HTML pages: a cookie jar, manual redirects, and
// form filling for sign-in and consent. Used by run.mjs and by bench/signin-bench.mjs.

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}


export class Browser {
  constructor() { this.cookies = new Map(); }

  cookieHeader(url) {
    const host = new URL(url).hostname;
    return [...this.cookies.values()].filter((c) => c.host === host).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  remember(url, response) {
    const host = new URL(url).hostname;
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (expired || value === '') this.cookies.delete(`${host}|${name}`);
      else this.cookies.set(`${host}|${name}`, { host, name, value });
    }
  }

  async request(url, { method = 'GET', form } = {}) {
    const headers = { 'user-agent': 'lgsp-interop/openid-client', accept: 'text/html' };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await this.send(url, { method, headers, body });
    this.remember(url, response);
    return response;
  }

  // One HTTP exchange, redirects not followed; the sign-in bench swaps in node:http.
  send(url, { method, headers, body }) {
    return fetch(url, { method, headers, body, redirect: 'manual' });
  }

  // Follow redirects until the hub shows a page or sends us to the client's redirect URI.
  async follow(url, init = {}, stopAt) {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10; hops++) {
      if (response.status < 300 || response.status >= 400) break;
      const location = new URL(response.headers.get('location'), current).href;
      if (location.startsWith(stopAt)) return { url: location, redirected: true };
      current = location;
      response = await this.request(current);
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`${current} answered ${response.status}: ${html.slice(0, 300)}`);
    return { url: current, html, redirected: false };
  }
}

const decode = (s) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
const attr = (tag, name) => {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
  return m ? decode(m[2] ?? m[3] ?? m[4] ?? '') : undefined;
};

// The POST forms of a page: action, fields (inputs with their values) and submit buttons.
export function forms(html, pageUrl) {
  const found = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, open, inner] = m;
    if ((attr(`<f ${open}>`, 'method') || 'get').toLowerCase() !== 'post') continue;
    const fields = {};
    const inputs = [];
    for (const t of inner.matchAll(/<input\b[^>]*>/gi)) {
      const tag = t[0];
      const name = attr(tag, 'name');
      const type = (attr(tag, 'type') || 'text').toLowerCase();
      if (!name) continue;
      inputs.push({ name, type });
      if (type === 'submit' || type === 'button') continue;
      if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/i.test(tag)) continue;
      fields[name] = attr(tag, 'value') ?? '';
    }
    const buttons = [];
    for (const b of inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
      const tag = `<button ${b[1]}>`;
      buttons.push({ name: attr(tag, 'name'), value: attr(tag, 'value') ?? '', text: b[2].replace(/<[^>]+>/g, '').trim() });
    }
    for (const t of inner.matchAll(/<input\b[^>]*type\s*=\s*["']?submit[^>]*>/gi)) {
      buttons.push({ name: attr(t[0], 'name'), value: attr(t[0], 'value') ?? '', text: attr(t[0], 'value') ?? '' });
    }
    found.push({ action: new URL(attr(`<f ${open}>`, 'action') || pageUrl, pageUrl).href, fields, inputs, buttons });
  }
  return found;
}

// Sign in and consent through the hub's HTML pages; return the redirect back to the client.
export async function signInAndConsent(browser, authorizationUrl, { pin, password, redirectUri }) {
  const visited = [];
  let page = await browser.follow(authorizationUrl.href, {}, redirectUri);
  for (let round = 0; round < 6 && !page.redirected; round++) {
    const candidates = forms(page.html, page.url);
    const login = candidates.find((f) => f.inputs.some((i) => i.type === 'password'));
    if (login) {
      visited.push('login');
      const fields = { ...login.fields };
      const passwordField = login.inputs.find((i) => i.type === 'password').name;
      const user = login.inputs.find((i) => i.type === 'text' || i.type === 'tel' || i.type === 'number' || /pin|user|login|username/i.test(i.name));
      assert(user, 'the sign-in form has a field for the personal identification number');
      fields[user.name] = pin;
      fields[passwordField] = password;
      const submit = login.buttons.find((b) => b.name);
      if (submit) fields[submit.name] = submit.value;
      page = await browser.follow(login.action, { method: 'POST', form: fields }, redirectUri);
      continue;
    }
    // Consent (or organization choice): press the button that approves.
    const approving = /^(allow|approve|accept|consent|yes|grant|agree|continue|confirm|true|1)$/i;
    let chosen;
    for (const f of candidates) {
      const button = f.buttons.find((b) => approving.test(b.value)) || f.buttons.find((b) => /đồng ý|cho phép|tiếp tục|allow|approve/i.test(b.text));
      if (button) { chosen = { f, button }; break; }
    }
    if (!chosen && candidates.length === 1) chosen = { f: candidates[0], button: candidates[0].buttons[0] };
    assert(chosen, `a consent form on ${page.url}: ${page.html.slice(0, 400)}`);
    visited.push('consent');
    const fields = { ...chosen.f.fields };
    if (chosen.button?.name) fields[chosen.button.name] = chosen.button.value;
    page = await browser.follow(chosen.f.action, { method: 'POST', form: fields }, redirectUri);
  }
  assert(page.redirected, `back at the client's redirect URI (stuck on ${page.url})`);
  return { callback: new URL(page.url), visited };
}

