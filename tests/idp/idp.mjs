// A real OpenID Connect provider for Berth's tests: panva's certified oidc-provider with test users in groups.
// Usage: IDP_PORT=9400 RP_URL=http://127.0.0.1:8123 node idp.mjs
import crypto from 'node:crypto';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT || 9400);
const issuer = `http://127.0.0.1:${port}`;
const rpUrl = process.env.RP_URL || 'http://127.0.0.1:8080';

const users = {
  alice: { password: 'alice-password', groups: ['berth-admins'] },
  oscar: { password: 'oscar-password', groups: ['berth-operators'] },
  vera: { password: 'vera-password', groups: ['berth-viewers', 'staff'] },
  nora: { password: 'nora-password', groups: ['staff'] },
  dana: { password: 'dana-password', groups: ['berth-developers', 'staff'] },
  dev2: { password: 'dev2-password', groups: ['berth-developers'] },
};

// a fresh key id per start, so a relying party never caches a new key under an old kid
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'berth', client_secret: 'berth-secret', redirect_uris: [`${rpUrl}/auth/callback`],
      post_logout_redirect_uris: [`${rpUrl}/login`], grant_types: ['authorization_code'], response_types: ['code'] },
    { client_id: 'other-app', client_secret: 'other-secret', redirect_uris: ['http://127.0.0.1:9/callback'],
      grant_types: ['authorization_code'], response_types: ['code'] },
  ],
  pkce: { required: () => true },
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  // first-party clients: no consent screen
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email groups');
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, id) => (users[id] ? {
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id, name: id, email: `${id}@example.test`, groups: users[id].groups }),
  } : undefined),
});

// devInteractions accepts any password: check it here, and refuse unknown users before findAccount is asked
provider.use(async (ctx, next) => {
  const match = ctx.method === 'POST' && ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const form = new URLSearchParams(Buffer.concat(chunks).toString());
  const login = form.get('login') || '';
  const user = users[login];
  const result = user && user.password === form.get('password')
    ? { login: { accountId: login } }
    : { error: 'access_denied', error_description: 'wrong username or password' };
  const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(target);
});

provider.listen(port, '127.0.0.1');
console.log(`test IdP listening on ${issuer}`);
