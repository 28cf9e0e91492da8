// `imageshare consumer fetch --dob YYYYMMDD --code CODE --out DIR [--url BASE]`: acts as a Document
// Consumer against the clearinghouse (the configured one, or this install's own): derives the patient
// ID from date of birth + access code, and writes every exam's manifest, report and images into DIR.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { loadOrCreateIdentity } from '../server/identity.ts';
import { fetchExamsToFolder, type ConsumerOptions } from '../roles/consumer/index.ts';
import { localApiBase } from './edge-commands.ts';
import { AccessCodeError } from '../identifiers/access-code.ts';
import { BirthDateError } from '../identifiers/birth-date.ts';

const USAGE = 'usage: imageshare consumer fetch --dob YYYYMMDD --code ACCESS-CODE --out DIR [--url CLEARINGHOUSE_BASE_URL]\n';

export async function consumerCommand(args: string[]): Promise<number> {
  if (args[0] !== 'fetch') {
    process.stderr.write(`unknown consumer command "${args[0] ?? ''}"\n${USAGE}`);
    return 64;
  }
  let values: { dob?: string; code?: string; out?: string; url?: string };
  try {
    values = parseArgs({ args: args.slice(1), options: { dob: { type: 'string' }, code: { type: 'string' }, out: { type: 'string' }, url: { type: 'string' } }, strict: true }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 64;
  }
  if (!values.dob || !values.code || !values.out) {
    process.stderr.write(USAGE);
    return 64;
  }
  try {
    const config = loadConfig();
    if (!existsSync(join(config.dataDir, 'identity.json'))) {
      process.stderr.write(`no ImageShare identity in ${config.dataDir}: point IMAGESHARE_DATA_DIR at an install started at least once\n`);
      return 78;
    }
    const identity = await loadOrCreateIdentity(config);
    const sub = config.edgeSubmission;
    const baseUrl = values.url ?? sub.clearinghouseUrl ?? localApiBase(config);
    const options: ConsumerOptions = {
      baseUrl,
      networkKey: identity.networkKey,
      patientIdAuthority: identity.oids.patientIdAuthority,
      legacyRsnaPatientIds: config.network.legacyRsnaPatientIds,
      ...(baseUrl.startsWith('https:')
        ? {
            tls: {
              key: sub.clientKeyFile ? readFileSync(sub.clientKeyFile) : identity.tls.keyPem,
              cert: sub.clientCertFile ? readFileSync(sub.clientCertFile) : identity.tls.certPem,
              ca: sub.caFile ? readFileSync(sub.caFile) : identity.tls.clientCaPem,
            },
          }
        : // Plain HTTP is for this install's own clearinghouse: the local CLI token authenticates.
          { headers: { authorization: `Bearer ${identity.cliToken}` } }),
    };
    process.stderr.write(`querying ${baseUrl} ...\n`);
    const summary = await fetchExamsToFolder(options, values.dob, values.code, values.out);
    if (summary.exams === 0) {
      process.stderr.write('nothing found for this date of birth and access code\n');
      return 3;
    }
    process.stdout.write(`Exams: ${summary.exams}\nManifests: ${summary.manifests}\nReports: ${summary.reports}\nImages: ${summary.images}\nFolder: ${values.out}\n`);
    return 0;
  } catch (err) {
    if (err instanceof AccessCodeError || err instanceof BirthDateError) {
      process.stderr.write(`${err.message}\n`);
      return 64;
    }
    process.stderr.write(`fetch failed: ${(err as Error).message}\n`);
    return 1;
  }
}
