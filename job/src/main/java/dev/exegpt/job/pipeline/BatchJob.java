package dev.exegpt.job.pipeline;

import java.nio.file.Path;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import dev.exegpt.operators.core.RawRecord;
import dev.exegpt.operators.flink.ValidateRequestFunction;
import dev.exegpt.schemas.Schedule;

/**
 * The same pipeline over a bounded requests file, in Flink's batch execution mode: the offline bulk use case. The
 * results and dead letters stream back to the client, which writes them and shows progress.
 */
public final class BatchJob {

    private BatchJob() {}

    /** Runs the pipeline over {@code input} (JSON lines) in batch mode; the caller closes the iterator. */
    public static CloseableIterator<JobOutput> run(StreamExecutionEnvironment env, Path input, PipelineSettings settings)
            throws Exception {
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        FileSource<String> file = FileSource.forRecordStreamFormat(new TextLineInputFormat(),
                new org.apache.flink.core.fs.Path(input.toAbsolutePath().toUri())).build();
        SingleOutputStreamOperator<RawRecord> raw = env.fromSource(file, WatermarkStrategy.noWatermarks(), "requests-file")
                .uid("requests-file").setParallelism(1)
                .process(new ParseRequestLineFunction()).name("parse-json").uid("parse-json").setParallelism(1);
        DataStream<Schedule> schedules = env.fromData(TypeInformation.of(Schedule.class), settings.schedule());
        ExegptPipeline.Streams out = ExegptPipeline.build(raw, schedules, settings, false);
        DataStream<JobOutput> all = out.results().map(JobOutput::of).returns(JobOutput.class)
                .union(out.deadLetters().map(JobOutput::of).returns(JobOutput.class),
                        raw.getSideOutput(ValidateRequestFunction.DEAD_LETTERS).map(JobOutput::of).returns(JobOutput.class));
        return all.executeAndCollect("exegpt-batch " + input.getFileName());
    }
}
