import type { MappingSource } from './types';

const yes = (value: boolean) => (value ? 'yes' : '—');

/** The feature table of the README, generated from the mapping files themselves. */
export function featureTable(sources: MappingSource[]): string {
  const rows = sources.map(({ document }) => {
    const card = (method: 'charge' | 'tokenize') => (document.supports[method] ?? []).includes('card');
    const ach = (method: 'charge' | 'tokenize') => (document.supports[method] ?? []).includes('ach');
    const answerParameters = Object.keys(document.response.parameters ?? {});
    return [
      `\`${document.name}\``,
      document.title ?? document.name,
      yes(card('charge')),
      yes(card('tokenize')),
      yes(ach('charge')),
      yes(ach('tokenize')),
      answerParameters.length > 0 ? answerParameters.map((name) => `\`${name}\``).join(', ') : '—',
    ];
  });
  const header = ['Connector', 'Gateway', 'Card charge', 'Card tokenize', 'ACH charge', 'ACH tokenize', 'Answer parameters'];
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
