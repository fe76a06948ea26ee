/** Cloud SQL instances on a real MariaDB: the emulator's shared backing (users and databases via `run`). */
export { MysqlBacking, type MysqlTarget } from "../mysql-backing.js";
