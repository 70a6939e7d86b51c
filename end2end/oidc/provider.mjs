// A real OpenID Connect provider for the browser tests: panva's oidc-provider (the engine
// inside Logto) on `localhost`, another site than the app on 127.0.0.1, so the SameSite rules
// the browser applies to the round trip are the real ones. Its development login form accepts
// any login: the login is the subject, and a login that is an email address is that person's
// verified email, except one ending in `.unverified` (`ada@example.com.unverified`), whose
// email the provider says it has not verified.
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT ?? 3190);
const appOrigin = process.env.APP_ORIGIN ?? "http://127.0.0.1:3100";
const name = process.env.OIDC_NAME ?? "e2e";

const provider = new Provider(`http://localhost:${port}`, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID ?? "tokenpair-e2e",
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: [`${appOrigin}/api/auth/oidc/${name}/callback`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      id_token_signed_response_alg: "ES256",
    },
  ],
  // The ID token carries the claims its scopes asked for (the app reads no userinfo).
  conformIdTokenClaims: false,
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  jwks: { keys: [await signingKey()] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, login) {
    const unverified = login.endsWith(".unverified");
    const email = login.replace(/\.unverified$/, "");
    return {
      accountId: login,
      async claims() {
        return email.includes("@")
          ? { sub: login, email, email_verified: !unverified, name: email.split("@")[0] }
          : { sub: login, name: login };
      },
    };
  },
});
provider.proxy = false;

provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on http://localhost:${port} for ${appOrigin}`);
});

async function signingKey() {
  const { generateKeyPairSync } = await import("node:crypto");
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...privateKey.export({ format: "jwk" }), kid: "e2e-es256", use: "sig", alg: "ES256" };
}
