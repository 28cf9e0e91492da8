// Pull from the site PACS: C-FIND at study level by Patient ID + Accession Number on every configured
// PACS, keep the copy with more instances, then C-MOVE it to the edge itself. Used by the staff API,
// the CLI (`imageshare edge pull`) and, later, the release jobs.
import type { PacsDevice } from '../../config/schema.ts';
import type { Logger } from '../../util/log.ts';

export interface StudyMatch {
  studyInstanceUid: string;
  /** NumberOfStudyRelatedInstances as the PACS reports it (null when it does not). */
  numberOfInstances: number | null;
}

export interface MoveResult {
  completed: number;
  failed: number;
  warning: number;
  /** Final DIMSE status of the C-MOVE. */
  status: number;
}

/** The DIMSE operations the pull needs, implemented over our DIMSE client (and fakeable in unit tests). */
export interface PacsConnector {
  echo(device: PacsDevice): Promise<void>;
  findStudies(device: PacsDevice, keys: { patientId: string; accessionNumber: string }): Promise<StudyMatch[]>;
  moveStudy(device: PacsDevice, studyInstanceUid: string, destinationAet: string): Promise<MoveResult>;
}

export class PullError extends Error {
  constructor(
    readonly code: 'NO_PACS_CONFIGURED' | 'NOT_FOUND' | 'AMBIGUOUS' | 'MOVE_FAILED' | 'PACS_UNREACHABLE',
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'PullError';
  }
}

export interface PullResult {
  studyInstanceUid: string;
  pacs: { aet: string; host: string; port: number };
  completed: number;
  failed: number;
  warning: number;
  /** Instances of the study in the edge's index once the move finished. */
  instancesIndexed: number;
}

export interface PacsPuller {
  pull(keys: { patientId: string; accessionNumber: string }): Promise<PullResult>;
  echoAll(): Promise<Array<{ aet: string; host: string; port: number; ok: boolean; error?: string }>>;
}

export interface PacsPullerOptions {
  devices: PacsDevice[];
  connector: PacsConnector;
  ownAet: string;
  countIndexedInstances: (studyUid: string) => Promise<number>;
  log: Logger;
}

export function createPacsPuller(opts: PacsPullerOptions): PacsPuller {
  const { devices, connector, log } = opts;
  return {
    async echoAll() {
      return Promise.all(
        devices.map(async (d) => {
          try {
            await connector.echo(d);
            return { aet: d.aet, host: d.host, port: d.port, ok: true };
          } catch (err) {
            return { aet: d.aet, host: d.host, port: d.port, ok: false, error: (err as Error).message };
          }
        }),
      );
    },

    async pull(keys) {
      if (devices.length === 0) throw new PullError('NO_PACS_CONFIGURED', 'no PACS is configured (IMAGESHARE_PACS or "pacs" in the configuration file)', 409);
      const candidates: Array<{ device: PacsDevice; match: StudyMatch }> = [];
      const errors: string[] = [];
      await Promise.all(
        devices.map(async (device) => {
          try {
            for (const match of await connector.findStudies(device, keys)) candidates.push({ device, match });
          } catch (err) {
            errors.push(`${device.aet}@${device.host}:${device.port}: ${(err as Error).message}`);
            log.warn({ pacs: device.aet, err: (err as Error).message }, 'C-FIND failed');
          }
        }),
      );
      if (candidates.length === 0) {
        if (errors.length === devices.length) throw new PullError('PACS_UNREACHABLE', `no PACS answered: ${errors.join('; ')}`, 502);
        throw new PullError('NOT_FOUND', 'no configured PACS has a study with this patient ID and accession number', 404);
      }
      const studyUids = new Set(candidates.map((c) => c.match.studyInstanceUid));
      if (studyUids.size > 1) {
        throw new PullError('AMBIGUOUS', `the patient ID and accession number match ${studyUids.size} different studies`, 409);
      }
      // Several PACS hold the study: take the copy with more instances (unknown counts rank last).
      candidates.sort((a, b) => (b.match.numberOfInstances ?? -1) - (a.match.numberOfInstances ?? -1));
      const chosen = candidates[0]!;
      const studyUid = chosen.match.studyInstanceUid;
      log.info({ pacs: chosen.device.aet, studyUid, expected: chosen.match.numberOfInstances }, 'C-MOVE study to the edge');
      const moved = await connector.moveStudy(chosen.device, studyUid, opts.ownAet);
      if (moved.completed === 0 && moved.failed > 0) {
        throw new PullError('MOVE_FAILED', `C-MOVE from ${chosen.device.aet} failed for all ${moved.failed} instances (status 0x${moved.status.toString(16)})`, 502);
      }
      return {
        studyInstanceUid: studyUid,
        pacs: { aet: chosen.device.aet, host: chosen.device.host, port: chosen.device.port },
        completed: moved.completed,
        failed: moved.failed,
        warning: moved.warning,
        instancesIndexed: await opts.countIndexedInstances(studyUid),
      };
    },
  };
}
