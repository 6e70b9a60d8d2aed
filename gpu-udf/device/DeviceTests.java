import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the JUnit tests of the packages given (default dev.exegpt.runtime.cuda) on the GPU host with JUnit's launcher
 * API, one line per test, the failures with their stack traces and a summary; exits 1 when a test failed. The
 * console launcher jar this replaces is not in the build machine's offline repository, the launcher API is.
 * Compiled by prepare.sh into .device/launcher; run by run.sh.
 */
public final class DeviceTests {
    public static void main(String[] args) {
        String[] packages = args.length > 0 ? args : new String[] {"dev.exegpt.runtime.cuda"};
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        for (String p : packages) request.selectors(selectPackage(p));
        LauncherDiscoveryRequest discovery = request.build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener lines = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier test, String reason) {
                if (test.isTest()) System.out.println("  SKIPPED " + test.getDisplayName() + ": " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                if (!test.isTest()) return;
                String id = test.getUniqueId().replaceAll(".*\\[class:([^\\]]*)\\].*", "$1");
                System.out.println("  " + result.getStatus() + " " + id + " " + test.getDisplayName()
                        + result.getThrowable().map(t -> ": " + t).orElse(""));
            }
        };
        Launcher launcher = LauncherFactory.create();
        launcher.execute(discovery, summary, lines);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printFailuresTo(out, 30);
        s.printTo(out);
        System.exit(s.getTotalFailureCount() > 0 || s.getTestsFoundCount() == 0 ? 1 : 0);
    }
}
