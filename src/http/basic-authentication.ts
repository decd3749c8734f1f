import type { IncomingMessage } from 'node:http';
import { Unauthorized } from '../errors';
import type { GatewayConnector, ConnectorCatalog } from '../mapping/connectors';
import type { Credentials } from '../mapping/values';
import { gatewayAccount, type GatewayAccount } from '../payments/gateway-account';
import { secret } from '../redaction/secret';
import type { KeyedHash } from '../security/keyed-hash';
import type { AuthSubject, AuthThrottle } from './auth-throttle';
import { markAuthenticated, type RequestContext } from './request-context';

/** Who a connector request is from, once its Basic credentials passed. */
export interface Payer {
  connector: GatewayConnector;
  credentials: Credentials;
  account: GatewayAccount;
}

export interface BasicAuthenticationOptions {
  catalog: ConnectorCatalog;
  throttle: AuthThrottle;
  credentialHash: KeyedHash;
  /** Gateway account ids (GatewayAccount.id) that may use this deployment; all when absent. */
  allowedAccounts?: ReadonlySet<string>;
}

/**
 * Checks the Basic auth credentials before the body is read, so a request that fails is answered
 * at once and holds nothing. They are checked against the shape the connector's gateway expects
 * (pass-through: the gateway alone can prove them) or against the configured ones, then against
 * ALLOWED_ACCOUNTS by the account they identify. Every failure is counted by the throttle before
 * the answer; credentials only the gateway can judge count as a failure while their payment is in
 * flight (AuthThrottle). Throws Unauthorized (or the throttle's refusal).
 */
export function authenticatePayer(
  { catalog, throttle, credentialHash, allowedAccounts }: BasicAuthenticationOptions,
  req: IncomingMessage,
  connectorName: string | undefined,
  context: RequestContext,
): Payer {
  const connector = catalog.get(connectorName);
  context.connector = connector.name;
  const check = connector.mapping.credentials;
  const { given, username, password } = basicCredentials(req);
  const credentials: Credentials = { username, password: secret.hidden(password) };
  const account = check.accepts(username, password) ? gatewayAccount(connector.name, check.account, credentials, credentialHash) : undefined;
  // An account known by its secret (NMI) is not guessed by username: only the address limit applies.
  const subject: AuthSubject = {
    address: context.clientAddress,
    account: check.account === 'password' ? undefined : `${connector.name}:${username}`,
    credential: account?.credentialHash,
  };
  throttle.check(subject);

  if (!account) {
    throttle.fail(subject);
    throw new Unauthorized(
      given ? `The Basic auth credentials are not valid for ${connector.name}${check.hint ? `: ${check.hint}` : ''}` : 'HTTP Basic auth is required',
    );
  }
  if (allowedAccounts && ![account.id, ...account.formerIds].some((id) => allowedAccounts.has(id))) {
    throttle.fail(subject);
    throw new Unauthorized('This gateway account may not use this service');
  }

  const proven = check.proves || throttle.isProven(subject);
  const end = throttle.begin(subject, !proven);
  if (proven) markAuthenticated(context);
  context.whenOver.push((status) => {
    const accepted = context.outcome === 'approved' || context.outcome === 'declined';
    if (accepted) markAuthenticated(context);
    end(status === 401 ? 'refused' : accepted ? 'accepted' : 'other');
  });
  return { connector, credentials, account };
}

/** The username and password of an `Authorization: Basic` header; empty when there is none. */
export function basicCredentials(req: IncomingMessage): { given: boolean; username: string; password: string } {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  return {
    given: match !== null,
    username: colon >= 0 ? decoded.slice(0, colon) : '',
    password: colon >= 0 ? decoded.slice(colon + 1) : '',
  };
}
