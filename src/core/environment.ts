/**
 * An environment's name (staging, production, eu-west_2), as `deploy:`, `verify.day2`, `database.environments` key
 * them and `--env` and the steps' `env:` take it: said once, so what one part accepts the others accept too.
 */
export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
