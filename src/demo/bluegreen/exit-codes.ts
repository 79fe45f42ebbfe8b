// What the Property app's exit code tells the deploy script that started it (both bundled apart: ./app.ts, ./deploy.ts).

/**
 * The app could not listen: its port, free when the deploy script chose it, was taken meanwhile by another process
 * (the machine's ephemeral ports are shared). The deploy script starts it again on another port.
 */
export const PORT_TAKEN_EXIT = 3;
