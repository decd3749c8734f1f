import type { Request } from 'express';
import { Unauthorized } from '../errors';
import type { Connector } from '../mapping/connectors';
import type { Credentials } from '../mapping/values';
import { secret } from '../redaction/secret';

/**
 * The Basic auth credentials, checked against the shape the connector's gateway
 * expects. For pass-through gateways (PayConex) they are the gateway's own
 * credentials, so the password becomes a Secret at once.
 */
export function readCredentials(req: Request, connector: Connector, allowedAccounts?: ReadonlySet<string>): Credentials {
  const { given, username, password } = basicCredentials(req);

  if (!connector.translator.acceptsCredentials(username, password)) {
    const hint = connector.translator.credentialsHint;
    throw new Unauthorized(
      given ? `The Basic auth credentials are not valid for ${connector.name}${hint ? `: ${hint}` : ''}` : 'HTTP Basic auth is required',
    );
  }
  if (allowedAccounts && !allowedAccounts.has(username)) {
    throw new Unauthorized('This gateway account may not use this service');
  }
  return { username, password: secret.hidden(password) };
}

/** The username and password of an `Authorization: Basic` header; empty when there is none. */
export function basicCredentials(req: Request): { given: boolean; username: string; password: string } {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  return {
    given: match !== null,
    username: colon >= 0 ? decoded.slice(0, colon) : '',
    password: colon >= 0 ? decoded.slice(colon + 1) : '',
  };
}
