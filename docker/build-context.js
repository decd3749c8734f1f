'use strict';
/**
 * What `docker build .` would send and copy, for machines without a Docker engine:
 * .dockerignore matching (as Docker's patternmatcher does it: root-relative patterns, a
 * leading `/` dropped, `*` and `?` within one path segment, `**` across segments, `!` to
 * re-include, the last matching line wins, a matching directory excludes all under it) and
 * the sources of the Dockerfile's COPY instructions taken from that context.
 *
 * Used by test/container/compose-and-dockerfile.test.ts and, as a command, by
 * scripts/container-smoke.sh:
 *   node docker/build-context.js <repository> <destination>
 * copies every file the Dockerfile's COPY instructions take from the context into
 * <destination> (same relative paths), and fails like `docker build` when a source is
 * missing or excluded by .dockerignore.
 */
const fs = require('node:fs');
const path = require('node:path');

/** @param {string} text the .dockerignore file */
function parseDockerignore(text) {
  const patterns = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1).trim();
    if (pattern === '') continue;
    pattern = path.posix.normalize(pattern).replace(/\/+$/, '');
    if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    if (pattern === '.' || pattern === '') continue;
    patterns.push({ pattern, negated, regexp: patternRegExp(pattern) });
  }
  return patterns;
}

/** Docker's translation of one pattern to a regular expression over slash-separated paths. */
function patternRegExp(pattern) {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        source += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else source += '[^/]*';
    } else if (ch === '?') source += '[^/]';
    else if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        source += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += escapeRegExp(ch);
  }
  return new RegExp(`${source}$`);
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** True when the path (relative to the context, slash-separated) or a folder holding it is excluded. */
function isExcluded(relativePath, patterns) {
  const candidates = [];
  const parts = relativePath.split('/');
  for (let depth = 1; depth <= parts.length; depth++) candidates.push(parts.slice(0, depth).join('/'));
  let excluded = false;
  for (const { regexp, negated } of patterns) {
    if (candidates.some((candidate) => regexp.test(candidate))) excluded = !negated;
  }
  return excluded;
}

/** An excluded folder is skipped unless a `!` pattern could re-include something under it. */
function mayHoldReincluded(folder, patterns) {
  return patterns.some(({ pattern, negated }) => {
    if (!negated) return false;
    const literal = pattern.split(/[*?[\\]/)[0];
    return literal.startsWith(`${folder}/`) || `${folder}/`.startsWith(literal);
  });
}

/** Every file of the build context: the repository less what .dockerignore excludes. */
function contextFiles(repository, patterns) {
  const files = [];
  const walk = (relative) => {
    for (const entry of fs.readdirSync(path.join(repository, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      const excluded = isExcluded(child, patterns);
      if (entry.isDirectory()) {
        if (!excluded || mayHoldReincluded(child, patterns)) walk(child);
      } else if (!excluded) files.push(child);
    }
  };
  walk('');
  return files.sort();
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerfileInstructions(text) {
  return text
    .replace(/\\\r?\n\s*/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^[A-Za-z]+\s/.test(line))
    .map((line) => ({ keyword: line.split(/\s/)[0].toUpperCase(), rest: line.slice(line.search(/\s/) + 1).trim() }));
}

/** The context sources of every COPY/ADD (not those taken from another stage with --from). */
function copySources(dockerfileText) {
  const sources = [];
  for (const { keyword, rest } of dockerfileInstructions(dockerfileText)) {
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const words = [];
    let remainder = rest;
    while (remainder.startsWith('--')) {
      const flag = remainder.split(/\s+/, 1)[0];
      words.push(flag);
      remainder = remainder.slice(flag.length).trim();
    }
    if (words.some((flag) => flag.startsWith('--from='))) continue;
    const operands = remainder.startsWith('[') ? JSON.parse(remainder) : remainder.split(/\s+/);
    sources.push(...operands.slice(0, -1).map((source) => path.posix.normalize(source).replace(/^\.?\/+/, '').replace(/\/+$/, '') || '.'));
  }
  return sources;
}

/**
 * The files each COPY source brings into the image: a file, everything under a folder, or
 * what a wildcard matches, from the context. Throws, as `docker build` fails, for a source
 * that is missing from the context (absent, or excluded by .dockerignore).
 */
function copiedFiles(repository, dockerfileText, patterns) {
  const context = contextFiles(repository, patterns);
  const bySource = new Map();
  for (const source of copySources(dockerfileText)) {
    let files;
    if (source === '.') files = context;
    else if (/[*?[]/.test(source)) {
      const regexp = patternRegExp(source);
      files = context.filter((file) => {
        const parts = file.split('/');
        return parts.some((_, index) => regexp.test(parts.slice(0, index + 1).join('/')));
      });
    } else files = context.filter((file) => file === source || file.startsWith(`${source}/`));
    if (files.length === 0) {
      const why = fs.existsSync(path.join(repository, source)) ? 'is excluded by .dockerignore' : 'does not exist';
      throw new Error(`COPY ${source}: ${why}, so docker build fails`);
    }
    bySource.set(source, files);
  }
  return bySource;
}

/**
 * The Dockerfile (the repository's, or another one by its path) and the ignore patterns of its
 * build context: as BuildKit does, `<Dockerfile>.dockerignore` beside that Dockerfile wins over
 * the context's .dockerignore.
 */
function readContext(repository, dockerfilePath = 'Dockerfile') {
  const own = path.join(repository, `${dockerfilePath}.dockerignore`);
  const ignore = fs.existsSync(own) ? own : path.join(repository, '.dockerignore');
  const patterns = fs.existsSync(ignore) ? parseDockerignore(fs.readFileSync(ignore, 'utf8')) : [];
  const dockerfile = fs.readFileSync(path.join(repository, dockerfilePath), 'utf8');
  return { patterns, dockerfile };
}

module.exports = { parseDockerignore, isExcluded, contextFiles, dockerfileInstructions, copySources, copiedFiles, readContext };

if (require.main === module) {
  const [repository, destination] = process.argv.slice(2);
  if (!repository || !destination) {
    process.stderr.write('usage: node docker/build-context.js <repository> <destination>\n');
    process.exit(2);
  }
  try {
    const { patterns, dockerfile } = readContext(repository);
    const files = new Set([...copiedFiles(repository, dockerfile, patterns).values()].flat());
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(destination, file)), { recursive: true });
      fs.copyFileSync(path.join(repository, file), path.join(destination, file));
    }
    process.stdout.write(`build context: ${files.size} files copied by the Dockerfile, .dockerignore applied\n`);
  } catch (error) {
    process.stderr.write(`build context: ${error.message}\n`);
    process.exit(1);
  }
}
