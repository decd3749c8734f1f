import path from 'node:path';
import { Command } from 'commander';
import { loadMappingToolSettings } from '../config/tool-settings';
import { MappingError, StartupError } from '../errors';
import { compileMapping } from '../mapping/compile';
import { featureTable } from '../mapping/features';
import { listMappingFiles, loadMappingFile, loadMappingFolder, refuseSharedName } from '../mapping/load';
import type { MappingSource } from '../mapping/types';

/**
 * `npm run mappings:check [file...]` validates mapping files against the schema and
 * compiles them, printing each problem with its file, line and path.
 * `npm run mappings:table` prints the README's feature table.
 */

// Checking a file must not need the deployment's secrets: every env.* source gets a stand-in.
const standInSecret = () => 'stand-in';

function sourcesOf(files: string[]): MappingSource[] {
  return files.length === 0 ? loadMappingFolder(loadMappingToolSettings().mappingsDir) : files.map((file) => loadMappingFile(path.resolve(file)));
}

const program = new Command('mappings').description('Check mapping files, or print their feature table.');

program
  .command('check')
  .argument('[files...]', 'mapping files (default: every file in MAPPINGS_DIR or mappings/)')
  .description('Validate and compile each mapping file on its own: "ok" or "error" per file, exit 1 if any is broken')
  .action((files: string[]) => {
    let failures = 0;
    const fail = (error: unknown) => {
      if (!(error instanceof MappingError || error instanceof StartupError)) throw error;
      failures += 1;
      process.stdout.write(`error ${error.message}\n`);
    };

    let targets: string[] = [];
    try {
      targets = files.length > 0 ? files.map((file) => path.resolve(file)) : listMappingFiles(loadMappingToolSettings().mappingsDir);
    } catch (error) {
      fail(error);
    }
    // Each file is checked on its own, so one broken file never hides another. In a folder,
    // two files cannot serve the same connector name.
    const loaded: MappingSource[] = [];
    for (const file of targets) {
      try {
        const source = loadMappingFile(file);
        loaded.push(source);
        if (files.length === 0) refuseSharedName(source, loaded);
        compileMapping(source, standInSecret);
        process.stdout.write(`ok    ${source.file}\n`);
      } catch (error) {
        fail(error);
      }
    }
    process.exitCode = failures > 0 ? 1 : 0;
  });

program
  .command('table')
  .argument('[files...]', 'mapping files (default: every file in MAPPINGS_DIR or mappings/)')
  .description('Print the feature table (Markdown) generated from the mapping files')
  .action((files: string[]) => {
    process.stdout.write(`${featureTable(sourcesOf(files))}\n`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`mappings: ${error instanceof Error ? error.message : 'failed'}\n`);
  process.exit(1);
});
