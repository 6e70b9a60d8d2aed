package dev.exegpt.job.cli;

import dev.exegpt.schemas.Schedule;
import dev.exegpt.scheduler.avro.ScheduleCodec;
import dev.exegpt.scheduler.plan.Candidate;
import dev.exegpt.scheduler.sim.Estimate;
import dev.exegpt.scheduler.sim.EventSimulator;
import dev.exegpt.scheduler.sim.Scenario;
import dev.exegpt.scheduler.sim.SimResult;
import dev.exegpt.scheduler.sim.XSimulator;
import dev.exegpt.scheduler.workload.ArrivalProcess;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code exegpt simulate}: runs a schedule request by request in the discrete-event simulator. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = "Simulate a schedule request by request and compare with the planner's prediction.")
final class SimulateCommand implements Callable<Integer> {
    @Option(names = "--schedule", required = true, paramLabel = "FILE", description = "Schedule (Avro JSON), e.g. from exegpt plan --out.")
    Path schedule;

    @Option(names = "--requests", defaultValue = "10000", paramLabel = "N", description = "Requests to simulate (default 10000).")
    int requests;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed for lengths and arrivals (default 42).")
    long seed;

    @Option(names = "--rate", paramLabel = "REQ/S", description = "Poisson arrivals at this rate; default: all at once (saturation, as the paper).")
    Double rate;

    @Option(names = "--timeline", paramLabel = "FILE", description = "Write the first 10,000 steps as CSV (executor,kind,start_ms,end_ms,batch) for plots.")
    Path timeline;

    @Mixin ScenarioOptions scenario;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if (requests < 10) throw new CliErrors.UserError("--requests=%d: expected at least 10".formatted(requests), 2);
        if (rate != null && !(rate > 0)) throw new CliErrors.UserError("--rate=%s: expected a positive rate".formatted(rate), 2);
        if (!Files.isRegularFile(schedule)) throw new CliErrors.UserError("--schedule=%s: no such file".formatted(schedule), 2);
        Schedule s = ScheduleCodec.read(schedule);
        if (scenario.modelSpec == null && scenario.profile == null) scenario.modelSpec = s.getModelName();
        if (scenario.hardware == null && !s.getHardware().isEmpty()) scenario.hardware = s.getHardware();
        if (scenario.task == null && scenario.workload == null) scenario.task = s.getTask();
        Scenario sc = scenario.scenario();
        Candidate c = ScheduleCodec.toCandidate(s);
        if (c.numDevices() != sc.numDevices()) {
            throw new CliErrors.UserError("--hardware=%s: the schedule is for %d devices".formatted(scenario.hardware, c.numDevices()), 2);
        }
        XSimulator x = new XSimulator(sc);
        Estimate e = x.estimate(c);
        ArrivalProcess arrivals = rate == null ? new ArrivalProcess.Bulk() : new ArrivalProcess.Poisson(rate);
        SimResult r = new EventSimulator(x).run(c, requests, seed, arrivals);
        PrintWriter w = spec.commandLine().getOut();
        w.printf("schedule %s: %s on %s, task %s%n", s.getScheduleId(), c.describe(), scenario.hardwareName(), sc.workload().name());
        w.printf("%-34s %12s %12s%n", "", "planner", "event sim");
        w.printf("%-34s %12.2f %12.2f%n", "throughput (seq/s)", e.sequencesPerSecond(), r.sequencesPerSecond());
        w.printf("%-34s %12.0f %12.0f%n", "latency of %d-token output (ms)".formatted(e.boundOutputTokens()), e.latencyMs(), r.boundLengthLatencyMs());
        w.printf("%-34s %12d %12.1f%n", "decode batch", e.decodeBatchSize(), r.meanDecodeBatch());
        w.printf("%-34s %12.2f %12.2f%n", "device utilisation", e.utilisation(), r.utilisation());
        w.printf("per request (%d): service p50 %.0f ms, p99 %.0f ms; end to end p50 %.0f ms, p99 %.0f ms; TTFT p50 %.0f ms, p99 %.0f ms; TPOT %.1f ms%n",
                r.numRequests(), r.p50ServiceMs(), r.p99ServiceMs(), r.p50E2eMs(), r.p99E2eMs(), r.p50TtftMs(), r.p99TtftMs(), r.meanTpotMs());
        w.printf("simulated in %.0f ms%n", r.wallMs());
        if (timeline != null) {
            StringBuilder csv = new StringBuilder("executor,kind,start_ms,end_ms,batch\n");
            for (SimResult.TimelineStep t : r.timeline()) {
                csv.append("%d,%s,%.3f,%.3f,%d%n".formatted(t.executor(), t.kind(), t.startMs(), t.endMs(), t.batchSize()));
            }
            try {
                Files.writeString(timeline, csv);
            } catch (IOException io) {
                throw new CliErrors.UserError("--timeline=%s: cannot write: %s".formatted(timeline, io.getMessage()));
            }
            w.printf("wrote %d timeline steps to %s%n", r.timeline().size(), timeline);
        }
        w.flush();
        return 0;
    }
}
