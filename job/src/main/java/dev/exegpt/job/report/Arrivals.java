package dev.exegpt.job.report;

/** How the requests of a run arrived, which decides the clock whose SLO attainment is the run's verdict. */
public enum Arrivals {

    /** As they come (Poisson, or live traffic): the wait in the queue is the user's, so the verdict counts from arrival. */
    OPEN(SloClock.ARRIVAL, "requests arrived as they came (open loop), so the verdict counts from arrival"),

    /**
     * A round's requests all at once: the queue then measures only the bulk's size, so the verdict counts from encode
     * start, the paper's clock for its saturation figures (PAPER.md §2.2).
     */
    BULK(SloClock.ENCODE_START, "each round's requests arrived at once (bulk), so the verdict counts from encode start,"
            + " the paper's clock: the wait in the queue measures only the size of the bulk");

    private final SloClock verdict;
    private final String why;

    Arrivals(SloClock verdict, String why) {
        this.verdict = verdict;
        this.why = why;
    }

    /** The clock whose SLO attainment is the run's verdict. */
    public SloClock verdict() {
        return verdict;
    }

    /** One sentence: why that clock is the verdict. */
    public String why() {
        return why;
    }
}
