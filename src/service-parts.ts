import type { Config } from './config/settings';
import { createGatewayClient, type GatewayClient, type GatewayClientOptions } from './gateway/gateway-client';
import { describeUnexpected, type Logger } from './logging/logger';
import { compileMappings, connectorCatalog, type ConnectorCatalog } from './mapping/connectors';
import { createMetrics, type Metrics } from './observability/metrics';
import type { PaymentDependencies } from './payments/take-payment';
import { startSandboxGateway } from './sandbox/sandbox-server';
import { credentialHashFor, serviceKey } from './security/service-keys';
import type { KeyedHash } from './security/keyed-hash';
import { IdempotencyGate } from './store/idempotency';
import { InstanceKeeper, thisInstance } from './store/instances';
import type { OrphanedClaim, TransactionJournal } from './store/journal';
import { openStore } from './store/open-journal';
import type { Sql } from './store/sql';
import { JournalPruner } from './store/pruner';
import { accessTokensFor, type AccessTokens } from './security/access-tokens';
import { AgentSessions } from './sessions/agent-sessions';
import { ApiClientRegistry } from './sessions/api-client-registry';
import { SessionEvents } from './sessions/session-events';
import { SessionSweeper } from './sessions/session-sweeper';
import { SessionStore } from './store/session-store';
import { SessionLinkStore } from './store/session-link-store';
import { SessionLinks } from './sessions/session-links';
import { ConsoleAccess } from './sessions/console-access';
import { ConsoleUsers } from './sessions/console-users';
import { ConsoleTokens } from './security/console-tokens';
import { IvrSessions } from './sessions/ivr-sessions';
import { DigitalSessions } from './sessions/digital-sessions';
import { LinkMessages } from './sessions/link-messages';
import { configuredPayers } from './payments/configured-credentials';
import { twilioMessages, type MessageSender } from './twilio/twilio-messages';
import { IvrPrompts } from './sessions/ivr-prompts';
import { twilioPayments } from './twilio/twilio-payments';
import { WebhookDelivery, webhookEventFor } from './sessions/webhook-delivery';
import { announceWebhooks, outboxInsert, WebhookOutbox } from './store/webhook-outbox';
import type { ApiClients } from './sessions/api-clients';
import type { WebhooksFor } from './sessions/agent-sessions';

/** A duplicate waits for the first request's gateway call, plus this, before TRANSACTION_IN_PROGRESS. */
const WAIT_MARGIN_MS = 5_000;
/** Duplicates waiting at once (Twilio sends at most 5 retries of one transaction_id). */
const WAITERS = { perKey: 100, perAccount: 200, inAll: 1000 };

/** Everything the service is made of, but its HTTP entry points: what any channel pays through. */
export interface ServiceParts {
  config: Config;
  logger: Logger;
  journal: TransactionJournal;
  /** The journal's database, for the stores written in portable SQL (sessions, webhooks). */
  sql: Sql;
  metrics: Metrics;
  catalog: ConnectorCatalog;
  payments: PaymentDependencies;
  credentialHash: KeyedHash;
  /** The embedded sandbox gateway, when GATEWAY_ENV=sandbox needs it. */
  sandboxUrl?: string;
  /** Payment sessions, when TWILIO_ACCOUNT_SID turns them on. */
  sessions?: SessionParts;
  /** Stops and closes every part, in the reverse order of their start; payments in flight settle first. */
  teardown(): Promise<void>;
}

export interface ComposeOptions {
  /**
   * Builds the gateway client (default: the undici one, gateway/gateway-client.ts). Only
   * `npm run bench` sets it, to measure the former axios client in the same run.
   */
  gatewayClient?: (options: GatewayClientOptions) => GatewayClient;
}

/**
 * Validates every mapping file, opens the journal (turning payments left pending by a crashed run
 * into `unknown`), and starts the embedded sandbox gateway when GATEWAY_ENV=sandbox needs it. If a
 * part fails to start, the ones already started are torn down before the error is thrown.
 */
export async function composeService(config: Config, logger: Logger, options: ComposeOptions = {}): Promise<ServiceParts> {
  const mappings = compileMappings(config);
  const credentialHash = credentialHashFor(config);
  if (config.databaseUrl && !config.credentialHashKey) {
    logger.warn('CREDENTIAL_HASH_KEY is generated in DATA_DIR: replicas sharing the journal must share it too, or retries reaching another replica are refused; set CREDENTIAL_HASH_KEY');
  }

  const closers: Array<() => Promise<void> | void> = [];
  let tearingDown: Promise<void> | undefined;
  const teardown = () =>
    (tearingDown ??= (async () => {
      for (const close of [...closers].reverse()) await close();
    })());
  try {
    const store = await openStore(config);
    closers.push(() => store.close());
    const { journal, sql } = store;
    const reportJournalError = (error: unknown) => {
      logger.error('journal error', describeUnexpected(error));
    };
    const metrics = createMetrics();
    const keeper = new InstanceKeeper(journal, thisInstance(), reportJournalError, (claims) => reportOrphaned(logger, metrics, claims));
    await keeper.start();
    closers.push(() => keeper.stop().catch(reportJournalError));
    const pruner = new JournalPruner(journal, config.retentionDays, reportJournalError);
    await pruner.start();
    closers.push(() => pruner.stop());

    const sandbox = mappings.needsEmbeddedSandbox ? await startSandboxGateway() : undefined;
    if (sandbox) closers.push(() => sandbox.stop());
    const catalog = connectorCatalog(config, mappings, sandbox?.url);
    const gateway = (options.gatewayClient ?? createGatewayClient)({ timeoutMs: config.gatewayTimeoutMs });
    closers.push(() => gateway.close());
    const gate = new IdempotencyGate(
      journal,
      keeper,
      {
        waitLimitMs: config.gatewayTimeoutMs + WAIT_MARGIN_MS,
        maxWaitersPerKey: WAITERS.perKey,
        maxWaitersPerAccount: WAITERS.perAccount,
        maxWaiters: WAITERS.inAll,
        pollMs: 250,
      },
      reportJournalError,
    );
    // Gateway calls whose client went away still run: their outcome is recorded before anything closes.
    closers.push(() => gate.drain());
    const payments: PaymentDependencies = { gateway, gate, instanceId: keeper.me.id, logger };
    const sessions = config.twilioAccountSid
      ? await composeSessions(config, logger, { sql, metrics, pruner, closers, catalog, payments, credentialHash })
      : undefined;

    return {
      config,
      logger,
      journal,
      sql,
      metrics,
      catalog,
      payments,
      credentialHash,
      sandboxUrl: sandbox?.url,
      sessions,
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** What the session API's entry points need: the use cases, the clients and their tokens, Twilio's key. */
export interface SessionParts {
  sessions: AgentSessions;
  /** IVR self-service: the hosted <Pay>. */
  ivr: IvrSessions;
  /** Pay by link: the payment page and its link messages. */
  digital: DigitalSessions;
  events: SessionEvents;
  /** Bearer links to sessions (console_url, twiml_url, link_url, stream tickets). */
  links: SessionLinks;
  clients: ApiClientRegistry;
  tokens: AccessTokens;
  /** The webhooks owed, for the admin API. */
  outbox: WebhookOutbox;
  /** Checks X-Twilio-Signature. */
  twilioAuthToken: string;
  publicUrl: string;
  maxStreamsPerClient: number;
  /** The agent console (/console): its links, its agents, its tokens and settings. */
  console: ConsoleParts;
}

export interface ConsoleParts {
  access: ConsoleAccess;
  users: ConsoleUsers;
  tokens: ConsoleTokens;
  frameAncestors: string[];
  connectors: string[];
  /** TOKEN_SIGNING_KEY (the CSRF tokens' key is derived from it). */
  signingKey: string;
}

/** How long, beyond its settle time, a processing session waits for its payment to reach the journal at all. */
const NO_PAYMENT_MARGIN_MS = 60_000;

/** The payment sessions: API clients, Twilio, the session store and its events, the sweeper that runs once across replicas. */
async function composeSessions(
  config: Config,
  logger: Logger,
  parts: {
    sql: Sql;
    metrics: Metrics;
    pruner: JournalPruner;
    closers: Array<() => Promise<void> | void>;
    catalog: ConnectorCatalog;
    payments: PaymentDependencies;
    credentialHash: KeyedHash;
  },
): Promise<SessionParts> {
  const { sql, metrics, pruner, closers } = parts;
  // Checked first: a bad prompts file, message template or gateway credentials stop start-up before anything is started.
  const prompts = config.ivrPromptsFile ? IvrPrompts.load(config.ivrPromptsFile) : IvrPrompts.none();
  const smsTemplate = LinkMessages.loadTemplate(config.smsTemplateFile);
  const payers = configuredPayers(parts.catalog, config.secret, parts.credentialHash, config.allowedAccounts);
  const clients = new ApiClientRegistry({ file: config.apiClientsFile, logger });
  closers.push(() => clients.close());
  const tokens = accessTokensFor(config, clients);
  const consoleUsers = new ConsoleUsers({ file: config.consoleUsersFile, logger });
  closers.push(() => consoleUsers.close());
  const store = new SessionStore(sql);
  const twilio = twilioPayments({
    accountSid: config.twilioAccountSid!,
    authToken: config.twilioAuthToken!,
    apiKey: config.twilioApiKey,
    apiSecret: config.twilioApiSecret,
    apiBase: config.twilioApiBase,
  });
  const events = new SessionEvents(sql, store, (error) => logger.error('session event not delivered', describeUnexpected(error)));
  await events.start();
  const delivery = new WebhookDelivery({ sql, clients, logger, metrics, retentionDays: config.retentionDays });
  await delivery.start();
  closers.push(() => delivery.stop());
  const sessions = new AgentSessions({
    store,
    twilio,
    events,
    webhooksFor: webhooksFor(clients),
    webhooksOwed: () => announceWebhooks(sql),
    publicUrl: config.publicUrl!,
    defaultConnector: config.twilioPaymentConnector,
    timeoutSeconds: config.agentSessionTimeoutS,
    logger,
  });
  const settleAfterMs = config.sessionSettleAfterS * 1000;
  const sweeper = new SessionSweeper({ sessions, store, sql, logger, settleAfterMs, noPaymentAfterMs: settleAfterMs + NO_PAYMENT_MARGIN_MS });
  sweeper.start();
  closers.push(() => sweeper.stop());
  pruner.add((before) => store.prune(before));
  const linkStore = new SessionLinkStore(sql);
  const links = new SessionLinks(linkStore);
  // A link answers (if only to say it has ended) as long as its session is kept.
  pruner.add((before) => linkStore.prune(before));
  const ivr = new IvrSessions({
    sessions,
    store,
    links,
    prompts,
    publicUrl: config.publicUrl!,
    timeoutSeconds: config.ivrSessionTimeoutS,
    payLimitSeconds: config.ivrPayLimitS,
  });
  const twilioAccount = {
    accountSid: config.twilioAccountSid!,
    authToken: config.twilioAuthToken!,
    apiKey: config.twilioApiKey,
    apiSecret: config.twilioApiSecret,
    apiBase: config.twilioApiBase,
  };
  const sender: MessageSender | undefined = config.twilioMessagingServiceSid
    ? { messagingServiceSid: config.twilioMessagingServiceSid }
    : config.twilioSmsFrom
      ? { from: config.twilioSmsFrom }
      : undefined;
  if (config.smsMode === 'twilio' && !sender) {
    logger.warn('digital sessions cannot text their links: set TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID (or create them with send_sms false)');
  }
  const digital = new DigitalSessions({
    sessions,
    store,
    links,
    payers,
    defaultConnector: config.defaultConnector,
    payments: parts.payments,
    messages: new LinkMessages({
      texts: sender ? twilioMessages(twilioAccount, sender) : undefined,
      mode: config.smsMode,
      template: smsTemplate,
      merchantName: config.merchantName,
      allowedCountries: config.smsAllowedCountries,
      perNumberPerHour: config.smsPerNumberPerHour,
      publicUrl: config.publicUrl!,
      logger,
      metrics,
    }),
    metrics,
    publicUrl: config.publicUrl!,
    maxAttempts: config.digitalMaxAttempts,
  });
  metrics.watchSessions({ byState: () => store.countByState(), stuckProcessing: () => store.countProcessingSince(Date.now() - settleAfterMs) });
  const signingKey = serviceKey({ name: 'TOKEN_SIGNING_KEY', configured: config.tokenSigningKey, production: config.gatewayEnv === 'production', dataDir: config.dataDir });
  return {
    sessions,
    ivr,
    digital,
    events,
    links,
    console: {
      access: new ConsoleAccess({ links, publicUrl: config.publicUrl!, linkTtlMs: config.consoleLinkTtlS * 1000 }),
      users: consoleUsers,
      tokens: new ConsoleTokens({
        signingKey,
        previousSigningKey: config.tokenSigningKeyPrevious,
        tokenTtlSeconds: config.consoleTokenTtlS,
        signInTtlSeconds: config.consoleSessionTtlS,
      }),
      frameAncestors: config.consoleFrameAncestors,
      connectors: config.consoleConnectors,
      signingKey,
    },
    clients,
    tokens,
    outbox: new WebhookOutbox(sql),
    twilioAuthToken: config.twilioAuthToken!,
    publicUrl: config.publicUrl!,
    maxStreamsPerClient: config.maxEventStreamsPerClient,
  };
}

/**
 * The webhook a session's change owes its client, if any: on a new state the client is told of
 * (every final one; capturing and processing too when it asked for progress events). The event's
 * sequence is the session's version, so a session's webhooks go out in the order of its changes.
 */
function webhooksFor(clients: ApiClients): WebhooksFor {
  return (clientId, before, after, version) => {
    const type = before.state === after.state ? undefined : webhookEventFor(clients.get(clientId), after.state);
    return type ? [outboxInsert({ clientId, sessionId: after.id, sequence: version, type, data: after, createdAt: Date.parse(after.updated_at) })] : [];
  };
}

/** Each payment a stopped instance left in flight gets its own line: an operator reconciles them one by one. */
function reportOrphaned(logger: Logger, metrics: Metrics, claims: OrphanedClaim[]): void {
  metrics.paymentsOrphaned(claims.length);
  for (const claim of claims) {
    logger.warn('payment left in flight by a stopped instance is now unknown: reconcile it', {
      connector: claim.connector,
      transaction_id: claim.transactionId,
      owner: claim.owner,
    });
  }
}
