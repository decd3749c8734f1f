import type { PaymentMethod, Tender } from '../contract/payment-request';
import type { GatewayEnvironment } from '../config/settings';

/** A mapping file as written (after JSON Schema validation). See mapping.schema.json. */
export interface MappingDocument {
  name: string;
  title?: string;
  endpoints: Partial<Record<GatewayEnvironment, string>>;
  credentials: { account: AccountCredential; mode?: 'passthrough' | 'configured'; username?: CredentialRule; password?: CredentialRule };
  supports: Partial<Record<PaymentMethod, Tender[]>>;
  request: {
    method?: 'POST' | 'PUT';
    encoding: 'form' | 'json';
    headers?: Record<string, string | { basic: [string, string] }>;
    fields: Record<string, FieldRule | FieldRule[]>;
    parameters?: { allow: '*' | string[]; override?: string[] };
    sensitive?: string[];
  };
  response: {
    encoding: 'json' | 'form';
    success: Condition | Record<PaymentMethod, Condition>;
    unauthorized?: Condition;
    id: Paths | Record<PaymentMethod, Paths>;
    error_code: Paths;
    error_message: Paths;
    parameters?: Record<string, string>;
  };
}

/** Which Basic credential the gateway knows the merchant's account by. */
export type AccountCredential = 'username' | 'password' | 'both';

export interface CredentialRule {
  pattern: string;
  description?: string;
}

export type ValueFormat = 'decimal' | 'minor-units' | 'upper' | 'lower';

export interface PartRule {
  from?: string;
  const?: string;
  pad?: number;
  last?: number;
  first?: number;
}

export interface FieldRule extends PartRule {
  concat?: PartRule[];
  map?: Record<string, string>;
  format?: ValueFormat;
  default?: string;
  when?: { method?: PaymentMethod | PaymentMethod[]; tender?: Tender | Tender[] };
  optional?: boolean;
}

export interface Join {
  join: string[];
  separator?: string;
}

export type Paths = string | Join | Array<string | Join>;

export type Condition =
  | { path: string; equals: string | number | boolean | null }
  | { path: string; in: Array<string | number | boolean | null> }
  | { path: string; exists: boolean }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

/** Where a loaded document came from, for error messages that point into the file. */
export interface MappingSource {
  file: string;
  document: MappingDocument;
  /** Line and column of a path inside the file, when the format can tell. */
  locate(path: Array<string | number>): string;
}
