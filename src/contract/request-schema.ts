/**
 * The body Twilio's Generic Pay Connector POSTs, as a JSON Schema. Tolerant where
 * the contract is uncertain (2- or 4-digit years, null cvv/postal_code, a
 * description that is an object), strict on the formats the gateway depends on.
 * Each `description` is the rule in words: it becomes the error message.
 * `x-sensitive` marks the fields that carry card or bank data, and how each is masked: the one
 * declaration the parser, the mapping's values and the scrubbing of gateway answers derive from
 * (sensitive-fields.ts).
 */
/** Limits on what a request may carry; each has its own error code (README). */
export const REQUEST_LIMITS = {
  /** Nesting of objects and arrays in the body. */
  maxDepth: 5,
  /** Keys in the whole body, nested ones included. */
  maxKeys: 200,
  transactionIdChars: 255,
  descriptionChars: 1000,
  parameters: 50,
  parameterNameChars: 64,
  parameterValueChars: 500,
} as const;

export const connectorRequestSchema = {
  $id: 'connector-request',
  type: 'object',
  properties: {
    method: { enum: ['charge', 'tokenize'], description: 'must be "charge" or "tokenize"' },
    // Twilio's are UUIDs. A control or non-ASCII character would travel on into the journal, the
    // log lines and the CSV export, where it can pass for another id or break a line. Optional
    // spaces, then one visible character, then anything printable: one way to match, no backtracking.
    transaction_id: {
      type: 'string',
      minLength: 1,
      maxLength: REQUEST_LIMITS.transactionIdChars,
      pattern: '^\\x20*[\\x21-\\x7E][\\x20-\\x7E]*$',
      description: `must be 1 to ${REQUEST_LIMITS.transactionIdChars} printable ASCII characters, not only spaces`,
    },
    cardnumber: { type: 'string', pattern: '^[0-9]{12,19}$', 'x-sensitive': 'card-number', description: 'must be 12 to 19 digits' },
    expiry_month: {
      type: 'string',
      pattern: '^(0?[1-9]|1[0-2])$',
      description: 'must be a month from 1 to 12, in 1 or 2 digits',
    },
    expiry_year: { type: 'string', pattern: '^([0-9]{2}|[0-9]{4})$', description: 'must be 2 or 4 digits' },
    cvv: { type: ['string', 'null'], pattern: '^[0-9]{3,4}$', 'x-sensitive': 'hidden', description: 'must be 3 or 4 digits, or null' },
    postal_code: {
      type: ['string', 'null'],
      pattern: '^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$',
      description: 'must be letters and digits (at most 16), or null',
    },
    bankaccountnumber: { type: 'string', pattern: '^[0-9]{4,17}$', 'x-sensitive': 'bank-account', description: 'must be 4 to 17 digits' },
    routingnumber: { type: 'string', pattern: '^[0-9]{9}$', 'x-sensitive': 'hidden', description: 'must be 9 digits' },
    amount: {
      type: ['string', 'null'],
      pattern: '^[0-9]{1,7}(\\.[0-9]+)?$',
      description: 'must be a decimal amount such as "10.00"',
    },
    currency_code: {
      type: ['string', 'null'],
      pattern: '^[A-Za-z]{3}$',
      description: 'must be a 3-letter ISO 4217 code',
    },
    description: {
      type: ['string', 'object', 'null'],
      maxLength: REQUEST_LIMITS.descriptionChars,
      description: 'must be a string, an object or null',
    },
    parameters: {
      type: ['object', 'null'],
      maxProperties: REQUEST_LIMITS.parameters,
      propertyNames: { maxLength: REQUEST_LIMITS.parameterNameChars },
      additionalProperties: {
        type: ['string', 'number', 'boolean', 'null'],
        maxLength: REQUEST_LIMITS.parameterValueChars,
        description: 'must be a string, number, boolean or null (parameters is a flat object)',
      },
      description: 'must be a flat object',
    },
  },
  required: ['method', 'transaction_id'],
  allOf: [
    { if: { required: ['cardnumber'] }, then: { required: ['expiry_month', 'expiry_year'] } },
    { if: { required: ['bankaccountnumber'] }, then: { required: ['routingnumber'] } },
  ],
} as const;

export type ConnectorRequestField = keyof typeof connectorRequestSchema.properties;
