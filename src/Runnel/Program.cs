using Runnel;

return await RunnelCommand.RunAsync(args);
