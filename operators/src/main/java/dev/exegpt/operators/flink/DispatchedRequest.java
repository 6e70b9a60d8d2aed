package dev.exegpt.operators.flink;

import dev.exegpt.operators.core.ValidRequest;
import dev.exegpt.schemas.Schedule;

/**
 * A request on its way to an executor: the schedule in force when it was dispatched travels with it, so an
 * executor adopts a newer schedule at its next step boundary without a broadcast input of its own.
 *
 * @param request  the validated request
 * @param schedule the schedule in force at dispatch
 * @param replica  the executor (device group) it goes to, in [0, schedule.numReplicas)
 */
public record DispatchedRequest(ValidRequest request, Schedule schedule, int replica) {}
