import net from 'node:net';
import type { Config } from '../config/settings';
import { gatewayUrlVariable } from '../config/settings';
import { ConfigError, MappingError, NotFound } from '../errors';
import { compileMapping, type CompiledMapping } from './compile';
import { loadMappingFolder } from './load';
import type { MappingSource } from './types';

/** A loaded connector: its compiled mapping and the gateway URL it calls in this environment. */
export interface GatewayConnector {
  name: string;
  mapping: CompiledMapping;
  endpoint: string;
  /** How the endpoint was chosen, for the start-up log. */
  endpointFrom: 'mapping' | 'override' | 'embedded sandbox';
}

export interface ConnectorCatalog {
  /** The default connector when `name` is undefined; NotFound when unknown. */
  get(name?: string): GatewayConnector;
  list(): GatewayConnector[];
}

export interface CompiledMappings {
  sources: MappingSource[];
  mappings: CompiledMapping[];
  /** True when at least one connector must call the embedded sandbox gateway. */
  needsEmbeddedSandbox: boolean;
}

/** Loads and compiles every mapping file: all the checks a mapping can fail happen here, at start-up. */
export function compileMappings(config: Config): CompiledMappings {
  const sources = loadMappingFolder(config.mappingsDir);
  const mappings = sources.map((source) => compileMapping(source, config.secret));
  const names = new Set(mappings.map((mapping) => mapping.name));

  for (const variable of Object.keys(config.gatewayUrls)) {
    if (![...names].some((name) => gatewayUrlVariable(name) === variable)) {
      throw new ConfigError(`Invalid configuration: ${variable} matches no connector (loaded: ${[...names].join(', ')})`);
    }
  }
  if (!names.has(config.defaultConnector)) {
    throw new ConfigError(`Invalid configuration: DEFAULT_CONNECTOR "${config.defaultConnector}" is not a loaded connector (loaded: ${[...names].join(', ')})`);
  }
  const needsEmbeddedSandbox =
    config.gatewayEnv === 'sandbox' &&
    sources.some(({ document }) => !config.gatewayUrls[gatewayUrlVariable(document.name)] && document.endpoints.sandbox?.startsWith('/'));
  return { sources, mappings, needsEmbeddedSandbox };
}

/** Chooses each connector's endpoint: GATEWAY_URL_<NAME>, else the mapping's for GATEWAY_ENV. */
export function connectorCatalog(config: Config, compiled: CompiledMappings, sandboxUrl?: string): ConnectorCatalog {
  const connectors = new Map<string, GatewayConnector>();
  compiled.mappings.forEach((mapping, index) => {
    const source = compiled.sources[index]!;
    const override = config.gatewayUrls[gatewayUrlVariable(mapping.name)];
    const configured = source.document.endpoints[config.gatewayEnv];
    let connector: GatewayConnector;
    if (override) connector = { name: mapping.name, mapping, endpoint: override, endpointFrom: 'override' };
    else if (configured?.startsWith('/')) {
      if (!sandboxUrl) throw new ConfigError(`${source.file}: the embedded sandbox gateway is not running`);
      connector = { name: mapping.name, mapping, endpoint: sandboxUrl + configured, endpointFrom: 'embedded sandbox' };
    } else if (configured) connector = { name: mapping.name, mapping, endpoint: configured, endpointFrom: 'mapping' };
    else {
      throw new MappingError(
        `${source.locate(['endpoints'])}: at endpoints: no endpoint for GATEWAY_ENV=${config.gatewayEnv}; add endpoints.${config.gatewayEnv} or set ${gatewayUrlVariable(mapping.name)}`,
      );
    }
    refuseInsecureEndpoint(config, connector, source.file);
    connectors.set(mapping.name, connector);
  });

  return {
    get(name) {
      const connector = connectors.get(name ?? config.defaultConnector);
      if (!connector) throw new NotFound('No connector of that name');
      return connector;
    },
    list: () => [...connectors.values()],
  };
}

/**
 * Card data travels only over TLS, except to the embedded sandbox and, in sandbox
 * mode or on loopback, to a local test gateway.
 */
function refuseInsecureEndpoint(config: Config, connector: GatewayConnector, file: string): void {
  const url = new URL(connector.endpoint);
  if (url.protocol === 'https:') return;
  if (config.gatewayEnv === 'sandbox' || isLoopback(url.hostname)) return;
  throw new ConfigError(
    `Invalid configuration: ${connector.name} (${file}) would send card data over plain HTTP to ${url.host} with GATEWAY_ENV=${config.gatewayEnv}; use https://`,
  );
}

/** An address literal on loopback (127.0.0.0/8, ::1) or `localhost`; never a name that merely starts with 127. */
export function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return net.isIPv4(hostname) && hostname.startsWith('127.');
}
