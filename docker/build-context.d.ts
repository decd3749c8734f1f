/** Types of docker/build-context.js (plain JavaScript so scripts/container-smoke.sh can run it with node alone). */
export interface IgnorePattern {
  pattern: string;
  negated: boolean;
  regexp: RegExp;
}
export interface Instruction {
  keyword: string;
  rest: string;
}
export function parseDockerignore(text: string): IgnorePattern[];
export function isExcluded(relativePath: string, patterns: IgnorePattern[]): boolean;
export function contextFiles(repository: string, patterns: IgnorePattern[]): string[];
export function dockerfileInstructions(dockerfileText: string): Instruction[];
export function copySources(dockerfileText: string): string[];
export function copiedFiles(repository: string, dockerfileText: string, patterns: IgnorePattern[]): Map<string, string[]>;
export function readContext(repository: string, dockerfilePath?: string): { patterns: IgnorePattern[]; dockerfile: string };
