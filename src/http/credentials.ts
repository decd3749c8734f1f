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
export function readCredentials(req: Request, connector: Connector): Credentials {
  const header = req.get('authorization') ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const username = colon >= 0 ? decoded.slice(0, colon) : '';
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';

  if (!connector.translator.acceptsCredentials(username, password)) {
    const hint = connector.translator.credentialsHint;
    throw new Unauthorized(
      match ? `The Basic auth credentials are not valid for ${connector.name}${hint ? `: ${hint}` : ''}` : 'HTTP Basic auth is required',
    );
  }
  return { username, password: secret.hidden(password) };
}
