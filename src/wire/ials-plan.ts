/**
 * What an iALS round plan adds (server/strategies.ts 'ials' planExtras, federated/ials.ts): the
 * objective's hyper-parameters, validated on both sides like FedRecon's plan fields.
 */
import { z } from 'zod';

export const ialsPlanSchema = z
  .object({
    /** α₀: the weight of every (user, item) pair's squared score. */
    unobservedWeight: z.number().min(0),
    /** λ of the frequency-scaled regularisation λ·(count + α₀·total)^ν. */
    reg: z.number().positive(),
    /** ν. */
    regExponent: z.number().min(0),
  })
  .strict();

export type IalsPlanFields = z.infer<typeof ialsPlanSchema>;
