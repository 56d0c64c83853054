import { ChaosRefusedError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';

/** Options of {@link ChaosControl}. */
export interface ChaosControlOptions {
  /** Whether chaos starts switched on. @default false */
  enabled?: boolean;
  /** Name of the environment. @default process.env.NODE_ENV ?? 'development' */
  environment?: string;
  /** Environments treated as production. @default ['production', 'prod'] */
  productionEnvironments?: readonly string[];
  /** Allow chaos in a production environment. Off by default; say so explicitly. @default false */
  allowInProduction?: boolean;
}

/** Events of {@link ChaosControl}. */
export interface ChaosControlEvents {
  change: { enabled: boolean; reason: string };
}

/**
 * The kill switch every fault injector consults: chaos is **off unless enabled**, and refuses to switch on
 * in a production environment unless `allowInProduction` was given. `disable()` is immediate for every
 * injector sharing this control (they check it on each call). {@link ChaosControl.global} is the one used
 * when a component is given none.
 */
export class ChaosControl {
  /** The process-wide control used by default. Starts disabled. */
  static readonly global = new ChaosControl();

  readonly environment: string;
  readonly allowInProduction: boolean;
  private readonly production: boolean;
  private active = false;
  private readonly events = new EventEmitter<ChaosControlEvents>('chaos-control', 'chaos');

  constructor(options: ChaosControlOptions = {}) {
    this.environment = options.environment ?? process.env.NODE_ENV ?? 'development';
    this.allowInProduction = options.allowInProduction ?? false;
    this.production = (options.productionEnvironments ?? ['production', 'prod']).includes(this.environment);
    if (options.enabled === true) this.enable('initial');
  }

  /** Whether faults may be injected now. */
  get enabled(): boolean {
    return this.active;
  }

  /** Whether the environment lets chaos switch on at all. */
  get permitted(): boolean {
    return !this.production || this.allowInProduction;
  }

  /** Switches chaos on; throws {@link ChaosRefusedError} in production unless allowed. */
  enable(reason = 'manual'): void {
    if (!this.permitted) {
      throw new ChaosRefusedError(`Chaos refused: environment "${this.environment}" is production and allowInProduction is not set`);
    }
    if (this.active) return;
    this.active = true;
    this.events.emit('change', { enabled: true, reason });
  }

  /** Switches chaos off at once (the kill switch). */
  disable(reason = 'manual'): void {
    if (!this.active) return;
    this.active = false;
    this.events.emit('change', { enabled: false, reason });
  }

  /** Subscribes to `change`; returns the unsubscribe function. */
  on<K extends keyof ChaosControlEvents>(event: K, listener: Listener<ChaosControlEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }
}
