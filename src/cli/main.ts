// The `imageshare` command: `start` runs the network; the other commands act on a running network
// configured by the same environment variables (logs on standard error, results on standard output).
import { parseArgs } from 'node:util';
import { ConfigError, envBindings, loadConfig } from '../config/load.ts';
import { createLogger } from '../util/log.ts';
import { startNetwork } from '../server/network.ts';
import { edgePullCommand } from './edge-commands.ts';

const usage = `Usage: imageshare <command> [options]

Commands:
  start                                   run every role in one process (SQLite + data folder)
  edge pull --patient-id ID --accession ACC
                                          find the study on the configured PACS and pull it into the edge
  edge send --study UID [--dob YYYYMMDD]  release a study to its patient; prints the access code
  consumer fetch --dob YYYYMMDD --code CODE --out DIR [--url URL]
                                          retrieve a patient's exams as a Document Consumer
  bench                                   run the ingest benchmark against DCMTK storescp and Orthanc
  config                                  print the environment variables the configuration reads

Every setting comes from environment variables (or the JSON file named by IMAGESHARE_CONFIG);
run "imageshare config" to list them.`;

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        await startCommand();
        return;
      case 'edge':
        if (rest[0] === 'pull') {
          process.exitCode = await edgePullCommand(rest.slice(1));
          return;
        }
        if (rest[0] === 'send') return void (process.exitCode = await (await import('./edge-send-command.ts')).edgeSendCommand(rest.slice(1)));
        throw new UsageError(`unknown edge command "${rest[0] ?? ''}"`);
      case 'consumer': return void (process.exitCode = await (await import('./consumer-command.ts')).consumerCommand(rest));
      case 'bench': {
        const { benchCommand } = await import('../../bench/run-bench.ts');
        process.exitCode = await benchCommand(rest);
        return;
      }
      case 'config':
        for (const b of envBindings) process.stdout.write(`${b.env.padEnd(40)} ${b.help}\n`);
        process.stdout.write(`${'IMAGESHARE_CONFIG'.padEnd(40)} JSON configuration file (environment variables override it)\n`);
        return;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage + '\n');
        return;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 78; // EX_CONFIG
    } else if (err instanceof UsageError) {
      process.stderr.write(`imageshare: ${err.message}\n\n${usage}\n`);
      process.exitCode = 64; // EX_USAGE
    } else {
      process.stderr.write(`imageshare: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

async function startCommand(): Promise<void> {
  parseArgs({ args: [], options: {} });
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const network = await startNetwork(config, log);
  const host = (h: string) => (h === '0.0.0.0' || h === '::' ? 'localhost' : h);
  const lines = [
    '',
    'ImageShare is running.',
    `  Web and API (HTTP):   http://${host(config.http.host)}:${network.ports.http}/`,
    network.ports.https ? `  Web and API (HTTPS):  https://${host(config.https.host)}:${network.ports.https}/  (client certificates ${config.https.requireClientCert ? 'required' : 'optional'})` : '  HTTPS:                disabled',
    `  DICOM (edge):         AE title ${config.dicom.aet}, port ${network.ports.dicom}`,
    `  Data folder:          ${config.dataDir}`,
  ];
  if (network.generatedAdminPassword) {
    lines.push('', `  Admin account created: username "admin", password: ${network.generatedAdminPassword}`, '  This password is shown only once. Store it safely.');
  }
  process.stdout.write(lines.join('\n') + '\n\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    network.close().then(
      () => {
        log.info('stopped');
        log.flush?.();
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
