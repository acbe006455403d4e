// Drives the LGSP Hub, unmodified, with panva's openid-client (OpenID-Certified RP library):
// discovery, authorization code + PKCE (sign-in form and consent filled with a cookie jar),
// ID token validation, refresh, userinfo, client credentials, introspection, revocation.
//
// Environment:
//   ISSUER                      the hub's issuer, e.g. http://127.0.0.1:5000
//   CODE_CLIENT_ID, CODE_CLIENT_SECRET, REDIRECT_URI   a confidential code-flow client
//   CC_CLIENT_ID, CC_CLIENT_SECRET, CC_SCOPE           a client_credentials client
//   USER_PIN, USER_PASSWORD     a level-1 citizen
//   SCOPE                       default "openid profile"
// Prints one JSON summary line; exits non-zero on any failure.
import * as client from 'openid-client';
import { Browser, signInAndConsent } from './hubforms.mjs';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`missing environment variable ${name}`);
  return value;
};

const ISSUER = env('ISSUER');
const REDIRECT_URI = env('REDIRECT_URI');
const SCOPE = env('SCOPE', 'openid profile');
const steps = [];

async function step(name, fn) {
  const started = performance.now();
  try {
    const result = await fn();
    steps.push({ step: name, ok: true, ms: Math.round(performance.now() - started) });
    return result;
  } catch (err) {
    steps.push({ step: name, ok: false, error: `${err?.name ?? 'Error'}: ${err?.message ?? err}`, ...(err?.code ? { code: err.code } : {}), ...(err?.error ? { oauth_error: err.error } : {}) });
    throw err;
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

// --- the run ----------------------------------------------------------------------------

const summary = { issuer: ISSUER, library: 'openid-client', ok: false, steps };
const insecureLocalhost = { execute: [client.allowInsecureRequests] };

async function main() {
  const issuerUrl = new URL(ISSUER);
  const codeSecret = env('CODE_CLIENT_SECRET');
  const config = await step('discovery', async () => {
    const c = await client.discovery(issuerUrl, env('CODE_CLIENT_ID'), { client_secret: codeSecret }, client.ClientSecretBasic(codeSecret), insecureLocalhost);
    const md = c.serverMetadata();
    assert(md.issuer === ISSUER, 'issuer matches');
    assert(md.code_challenge_methods_supported?.includes('S256'), 'S256 advertised');
    return c;
  });

  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const browser = new Browser();
  const user = { pin: env('USER_PIN'), password: env('USER_PASSWORD'), redirectUri: REDIRECT_URI };
  const { callback } = await step('sign-in form and consent (cookie jar)', () => signInAndConsent(browser, authorizationUrl, user));

  const tokens = await step('authorization code + PKCE, ID token validated', () =>
    client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }));
  const claims = tokens.claims();
  assert(claims?.sub, 'ID token with sub');
  assert(tokens.refresh_token, 'a refresh token was issued');

  await step('userinfo', async () => {
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert(info.sub === claims.sub, 'userinfo sub = ID token sub');
  });

  const refreshed = await step('refresh (rotated)', async () => {
    const r = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert(r.access_token && r.access_token !== tokens.access_token, 'a new access token');
    assert(r.refresh_token && r.refresh_token !== tokens.refresh_token, 'the refresh token rotated');
    return r;
  });

  await step('reused refresh token refused', async () => {
    try {
      await client.refreshTokenGrant(config, tokens.refresh_token);
    } catch (err) {
      assert(err.error === 'invalid_grant', `invalid_grant, got ${err.error ?? err.message}`);
      return;
    }
    throw new Error('the rotated refresh token was accepted again');
  });

  await step('userinfo after refresh', async () => {
    try {
      // Reuse of a rotated refresh token revokes the family, so this may be refused now.
      await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
    } catch (err) {
      if (!(err instanceof client.WWWAuthenticateChallengeError) && err.status !== 401) throw err;
    }
  });

  const ccSecret = env('CC_CLIENT_SECRET');
  const ccConfig = await step('discovery (client_credentials client)', () =>
    client.discovery(issuerUrl, env('CC_CLIENT_ID'), { client_secret: ccSecret }, client.ClientSecretBasic(ccSecret), insecureLocalhost));
  const cc = await step('client credentials', async () => {
    const t = await client.clientCredentialsGrant(ccConfig, { scope: env('CC_SCOPE') });
    assert(t.access_token && t.token_type?.toLowerCase() === 'bearer', 'a bearer access token');
    const [header] = t.access_token.split('.');
    const typ = JSON.parse(Buffer.from(header, 'base64url').toString()).typ;
    assert(typ === 'at+jwt', `RFC 9068 typ at+jwt, got ${typ}`);
    return t;
  });

  await step('introspection (active)', async () => {
    const r = await client.tokenIntrospection(ccConfig, cc.access_token);
    assert(r.active === true, 'active');
    assert(r.client_id === env('CC_CLIENT_ID'), 'client_id');
  });
  await step('revocation', () => client.tokenRevocation(ccConfig, cc.access_token));
  await step('introspection after revocation (inactive)', async () => {
    const r = await client.tokenIntrospection(ccConfig, cc.access_token);
    assert(r.active === false, 'inactive after revocation');
  });

  const fresh = await step('revocation of a refresh token', async () => {
    // A second sign-in (SSO: the hub session in the cookie jar, no password) for a live family.
    const v = client.randomPKCECodeVerifier();
    const s = client.randomState();
    const n = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: SCOPE, code_challenge: await client.calculatePKCECodeChallenge(v), code_challenge_method: 'S256', state: s, nonce: n });
    const again = await signInAndConsent(browser, url, user);
    assert(!again.visited.includes('login'), 'single sign-on: no password the second time');
    const t = await client.authorizationCodeGrant(config, again.callback, { pkceCodeVerifier: v, expectedState: s, expectedNonce: n });
    await client.tokenRevocation(config, t.refresh_token, { token_type_hint: 'refresh_token' });
    try {
      await client.refreshTokenGrant(config, t.refresh_token);
    } catch (err) {
      assert(err.error === 'invalid_grant', `invalid_grant, got ${err.error ?? err.message}`);
      return { sso: true };
    }
    throw new Error('a revoked refresh token still works');
  });
  void fresh;
}

main().then(() => finish(), finish);

function finish(err) {
  summary.ok = !err && steps.length > 0 && steps.every((s) => s.ok);
  if (err) summary.error = `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
  console.log(JSON.stringify(summary));
  process.exit(summary.ok ? 0 : 1);
}
