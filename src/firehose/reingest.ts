/** Puts original record bytes back into the source delivery stream (Firehose `PutRecordBatch`). */
export interface Reingester {
  /**
   * @param streamArn the event's `deliveryStreamArn`
   * @param records original bytes, one Firehose record each; the transform reuses their memory once the
   *   returned promise settles, so an implementation that keeps them past that copies them
   * @returns per record, whether it was accepted; never rejects (a failed call marks its records false)
   */
  reingest(streamArn: string, records: readonly Uint8Array[], deadline: number): Promise<ReingestOutcome>;
}

export interface ReingestOutcome {
  readonly accepted: readonly boolean[];
  readonly calls: number;
  readonly retries: number;
  /**
   * Failures by AWS error name or code: failed calls (`ThrottlingException`, `TimeoutError` …) and failed
   * entries (`ServiceUnavailableException` …). Optional so that other reingesters need not count.
   */
  readonly errors?: Readonly<Record<string, number>>;
}
