import winston from 'winston';
import { createLogger } from '../../src/logging/logger';
import { secret } from '../../src/redaction/secret';
import { CapturedLogs } from '../helpers/service';

/** A logger as the service makes one, and the lines it writes. */
function capture() {
  const logs = new CapturedLogs();
  return { logger: createLogger('info', [new winston.transports.Stream({ stream: logs.stream })]), lines: logs.lines };
}

describe('when the service logs a line', () => {
  test('when the fields are plain, then the line is one JSON object with level, message, timestamp and the fields', () => {
    const { logger, lines } = capture();
    logger.info('payment', { route: '/', status: 200, client_gone: undefined });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'info', message: 'payment', route: '/', status: 200, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  test('when a line has fields, then its keys are in sorted order, as scripts that look for "message":"listening","port" expect', () => {
    const { logger, lines } = capture();
    logger.info('listening', { port: 8080, host: '0.0.0.0' });
    expect(Object.keys(JSON.parse(lines[0]!) as object)).toEqual(['host', 'level', 'message', 'port', 'timestamp']);
    expect(lines[0]).toMatch(/"message":"listening","port":8080/);
  });

  test('when a field is a Secret, then the line carries its mask only', () => {
    const { logger, lines } = capture();
    logger.info('gateway request', { card: secret.cardNumber('4111111111111111') });
    expect(lines[0]).not.toContain('4111111111111111');
    expect(JSON.parse(lines[0]!).card).toMatch(/1111$/);
  });

  test('when a field holds a cycle or a BigInt, which JSON.stringify cannot write, then the line is still written', () => {
    const { logger, lines } = capture();
    const looped: Record<string, unknown> = { id: 'x' };
    looped.self = looped;
    logger.info('odd', { looped, big: 10n });
    logger.info('after');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ message: 'odd', looped: { id: 'x', self: '[Circular]' }, big: '10' }),
      expect.objectContaining({ message: 'after' }),
    ]);
  });
});
