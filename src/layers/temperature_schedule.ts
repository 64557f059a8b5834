/**
 * Temperature annealing of Jang et al. 2017:
 * tau = max(tauMin, tau0 * exp(-rate * step)), recomputed every `interval` steps.
 */
import * as tf from '@tensorflow/tfjs';
import { findGumbelSoftmaxLayers, type GumbelSoftmax } from './gumbel_softmax.js';

export interface TemperatureScheduleConfig {
  /** Starting temperature (default 1.0). */
  tau0: number;
  /** Floor the temperature never goes under (default 0.5). */
  tauMin: number;
  /** Decay rate per step (default 3e-5). */
  rate: number;
  /** Steps between updates (default 1000). */
  interval: number;
}

/** The defaults of the original notebook (Jang et al. 2017). */
export const DEFAULT_TEMPERATURE_SCHEDULE: Readonly<TemperatureScheduleConfig> = Object.freeze({
  tau0: 1.0,
  tauMin: 0.5,
  rate: 3e-5,
  interval: 1000,
});

/** Checks a schedule config; throws one line naming the bad field. */
export function validateSchedule(config: TemperatureScheduleConfig): TemperatureScheduleConfig {
  const { tau0, tauMin, rate, interval } = config;
  const bad = (what: string) => {
    throw new Error(`temperature schedule: ${what}`);
  };
  if (!(Number.isFinite(tau0) && tau0 > 0)) bad(`tau0 must be a finite number > 0, got ${tau0}`);
  if (!(Number.isFinite(tauMin) && tauMin > 0)) bad(`tauMin must be a finite number > 0, got ${tauMin}`);
  if (tauMin > tau0) bad(`tauMin (${tauMin}) must not exceed tau0 (${tau0})`);
  if (!(Number.isFinite(rate) && rate >= 0)) bad(`rate must be a finite number >= 0, got ${rate}`);
  if (!(Number.isInteger(interval) && interval >= 1)) bad(`interval must be an integer >= 1, got ${interval}`);
  return config;
}

/** tau at a global step: the schedule holds its value between updates. */
export function annealedTemperature(step: number, config: TemperatureScheduleConfig): number {
  const { tau0, tauMin, rate, interval } = config;
  const lastUpdate = Math.floor(Math.max(0, step) / interval) * interval;
  return Math.max(tauMin, tau0 * Math.exp(-rate * lastUpdate));
}

/** A validated schedule with defaults filled in. */
export class TemperatureSchedule {
  readonly config: Readonly<TemperatureScheduleConfig>;

  constructor(config: Partial<TemperatureScheduleConfig> = {}) {
    this.config = Object.freeze(validateSchedule({ ...DEFAULT_TEMPERATURE_SCHEDULE, ...config }));
  }

  /** tau at `step`. */
  at(step: number): number {
    return annealedTemperature(step, this.config);
  }
}

type Container = Parameters<tf.Callback['setModel']>[0];
type BatchLogs = Parameters<tf.Callback['onBatchEnd']>[1];

export interface TemperatureAnnealerArgs extends Partial<TemperatureScheduleConfig> {
  /** Global step to start from, e.g. when continuing a run (default 0). */
  initialStep?: number;
}

/**
 * A model.fit callback that anneals every GumbelSoftmax layer of the model
 * (nested models included) before each batch, and records tau in the logs.
 * Layers with learnTemperature are left to the optimiser.
 */
export class TemperatureAnnealer extends tf.Callback {
  readonly schedule: TemperatureSchedule;
  /** Global step of the next batch. */
  step: number;
  private layers: GumbelSoftmax[] = [];
  private current = Number.NaN;

  constructor(args: TemperatureAnnealerArgs = {}) {
    super();
    const { initialStep = 0, ...schedule } = args;
    this.schedule = new TemperatureSchedule(schedule);
    this.step = initialStep;
  }

  /** The temperature last written to the layers. */
  get temperature(): number {
    return this.current;
  }

  override setModel(model: Container): void {
    super.setModel(model);
    this.layers = findGumbelSoftmaxLayers(model).filter((l) => !l.learnTemperature);
  }

  override async onBatchBegin(): Promise<void> {
    const tau = this.schedule.at(this.step);
    // Write only on change: with interval 1000 that is one write per 1000 batches.
    if (tau !== this.current) {
      for (const layer of this.layers) layer.setTemperature(tau);
      this.current = tau;
    }
  }

  override async onBatchEnd(_batch: number, logs?: BatchLogs): Promise<void> {
    if (logs) logs.tau = this.current;
    this.step++;
  }
}

/** Factory in the style of tf.callbacks.earlyStopping. */
export function temperatureAnnealer(args?: TemperatureAnnealerArgs): TemperatureAnnealer {
  return new TemperatureAnnealer(args);
}
