export {
  AnomalyDetector,
  type Anomaly,
  type AnomalyDetectorEvents,
  type AnomalyDetectorOptions,
  type AnomalySeverity,
  type AnomalyThresholds,
  type Change,
  type ChangeDetectionOptions,
  type ChangeDirection,
  type MetricBaseline,
  type ObserveResult,
} from './anomaly-detector.js';
export {
  FailurePredictor,
  type FailurePredictorEvents,
  type FailurePredictorOptions,
  type Prediction,
  type PreventiveActionRequest,
  type PreventiveActionSink,
  type ResourceLimit,
} from './failure-predictor.js';
export { fitLine, predictionStdError, valueAt, type LineFit } from './linear-fit.js';
export { normalCdf, studentTCdf } from './student-t.js';
