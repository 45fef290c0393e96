// Example handler: `_HANDLER=index.handler`. Returns the event; throws when event.fail is set.
exports.handler = async (event, context) => {
  if (event && event.fail) {
    const e = new Error(String(event.fail));
    e.name = "InteropError";
    throw e;
  }
  return { echo: event, requestId: context.awsRequestId, functionArn: context.invokedFunctionArn };
};
