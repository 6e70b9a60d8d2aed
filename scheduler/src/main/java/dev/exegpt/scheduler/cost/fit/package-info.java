/**
 * The one home of fitting a profile to its engine as it runs, used by the job's control loop, {@code exegpt bench},
 * {@code exegpt fidelity} and the demo's fit to serving:
 * <ul>
 *   <li>{@link dev.exegpt.scheduler.cost.fit.MeasuredStep}: an engine step as measured (kind, batch, lengths, time);</li>
 *   <li>{@link dev.exegpt.scheduler.cost.fit.StepFit}: a finished run's steps priced as the event simulator prices
 *       them, and the factors from their sums (the bench's fit round, the fit to serving, fidelity's per-step view);</li>
 *   <li>{@link dev.exegpt.scheduler.cost.fit.SlidingFit}: the running job's factors, a trimmed mean over a sliding
 *       window per phase (the control loop);</li>
 *   <li>{@link dev.exegpt.scheduler.cost.fit.ProfileScaling}: a profile scaled by the factors, held within bounds.</li>
 * </ul>
 * Pure Java: the job reads the executors' step logs ({@code EngineStepCsv}) or the steps topic and hands the steps
 * here.
 */
package dev.exegpt.scheduler.cost.fit;
