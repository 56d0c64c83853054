import type { EscalationHandler } from './escalation-recovery.js';

/** Where {@link createLogEscalationHandler} writes: `console` fits, and so do pino and winston loggers. */
export interface EscalationLogger {
  error(message: string, meta?: unknown): void;
  warn(message: string, meta?: unknown): void;
  info(message: string, meta?: unknown): void;
}

/**
 * An {@link EscalationHandler} that writes the escalation to a logger: `error` for high and critical levels,
 * `warn` for medium, `info` for low, with the component, category, channel and error as metadata.
 * @param logger @default console
 */
export function createLogEscalationHandler(logger: EscalationLogger = console): EscalationHandler {
  return (message, context) => {
    const meta = {
      strategy: context.strategy,
      channel: context.channel,
      level: context.escalationLevel,
      component: context.component,
      category: context.category,
      requiresManualIntervention: context.requiresManualIntervention,
      error: context.error,
    };
    if (context.escalationLevel === 'high' || context.escalationLevel === 'critical') logger.error(message, meta);
    else if (context.escalationLevel === 'medium') logger.warn(message, meta);
    else logger.info(message, meta);
  };
}
